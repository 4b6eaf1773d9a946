#!/usr/bin/env python3
"""Soak test (issue 4, section 4): N concurrent clients mix GET, PUT and LS on overlapping
files against one ferryd for a set time, and every byte is checked.

- Shared files (half in the root, half in `d/`) are read, replaced and listed by everyone.
  Each PUT's content is new random bytes whose sha256 is recorded *before* it is sent (the
  rename may make it visible before the OK arrives). A GET must return exactly FILESIZE bytes
  whose sha256 is one of the versions ever PUT under that name (or the initial one): a
  mixed, partial or foreign content is a corruption.
- Each client also has a private file: after its PUT is acknowledged it GETs it back and
  must find exactly what it sent (nobody else writes it). A difference is a lost transfer.
- LS of the root, `d/` and `p/` must list only known names (never `.ferry-tmp-*`), each with
  the size of one of its versions (a partial file would show another size).
- At the end, with the server still up: every shared file must hold a version that may be
  the last one — an acknowledged PUT that no other acknowledged PUT started after it was
  acknowledged; every private file must hold its client's last acknowledged version; no
  temporary file may remain; SIGTERM must stop the server with exit status 0.
- A tenth of the clients (at least one) are the real `ferry` client, run with scripts of
  several commands (`put`, `get`, `ls`, OPEN prefetch included), checked the same way.
- Beside the honest clients, an abusive one from another address (127.0.0.2; `--no-abuse`
  turns it off): descriptor hogs (sessions that OPEN and connect as many transfers as they
  are given and keep them with a byte every 0.5 s, of a request head that never ends or of a
  PUT's data), slow readers of a listing of ~20,000 entries (in `abuse/`, which the honest
  clients never touch) and readers that never read it, and a port re-opener (OPEN, close the
  session, OPEN the same port again in a new one; OPEN of a port outside the range). Its
  refusals and cuts are expected: they are counted and printed, not errors. The honest
  clients must still see none.

Counts of sessions, transfers, bytes, errors, corruptions and losses are printed, with
ferryd's descriptors and resident memory sampled every second. Exit status 1 when anything
was corrupted or lost, any transfer failed (more than --max-errors), a temporary file
remained or the server did not exit 0. Standard library only; loopback only; every thread
ends by the deadline plus a bounded socket timeout.
"""

import argparse
import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(os.path.dirname(HERE), "e2e")
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")

KIB = 1 << 10
MIB = 1 << 20
SHARED_FILES = 24
OP_TIMEOUT = 30.0  # seconds: the bound of every socket wait and every ferry run


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients (200)")
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to run (180)")
    parser.add_argument("--ferryd", default=os.environ.get("FERRYD") or os.path.join(BUILD, "ferryd"))
    parser.add_argument("--ferry", default=os.environ.get("FERRY") or os.path.join(BUILD, "ferry"))
    parser.add_argument("--ferry-share", type=float, default=0.1,
                        help="share of the clients that are the real ferry client (0.1)")
    parser.add_argument("--max-size", type=int, default=2 * MIB, help="largest file (2 MiB)")
    parser.add_argument("--max-errors", type=int, default=0, help="failed transfers allowed (0)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-abuse", dest="abuse", action="store_false",
                        help="no abusive client beside the honest ones")
    parser.add_argument("--transfer-timeout", type=int, default=30,
                        help="ferryd's --transfer-timeout (30); lower, a short run sees the "
                        "abuser's trickles cut (the window of --min-rate)")
    return parser.parse_args()


ARGS = parse_arguments()
# Copies of the two programs as they are now: a rebuild of build/ during the run (a shared
# tree) must not swap them under the test. Absolute: the ferry clients run in folders of
# their own.
BINARIES = tempfile.mkdtemp(prefix="ferry-soak-bin-")
for program in ("ferryd", "ferry"):
    if os.access(getattr(ARGS, program), os.X_OK):
        setattr(ARGS, program, shutil.copy2(getattr(ARGS, program), BINARIES))
ARGS.ferryd, ARGS.ferry = os.path.abspath(ARGS.ferryd), os.path.abspath(ARGS.ferry)
os.environ["FERRYD"], os.environ["FERRY"] = ARGS.ferryd, ARGS.ferry
sys.path.insert(0, E2E)
import ferrytest  # noqa: E402  (needs FERRY/FERRYD set first)
from ferrytest import Control, parse_listing, transfer  # noqa: E402

ABUSER = "127.0.0.2"           # the abusive client's source address
ABUSE_DIR = "abuse"            # its folder in the root: honest clients never touch it
ABUSE_ENTRIES = 20000          # entries of abuse/big, listed slowly
HOG_SESSIONS = 4               # sessions of the descriptor hog
HOG_PER_SESSION = 40           # at most this many transfers each (the server refuses first)
SLOW_LISTERS = 3               # concurrent slow readers of abuse/big (one of them never reads)
# Options the soak runs ferryd with: 200 honest clients from 127.0.0.1 hold up to 2 transfers
# each (and the ferry client prefetches), and honest LS must never meet a listing limit the
# abuser fills. Options an older ferryd does not know are left out.
SERVER_OPTIONS = ["--log-level", "warn", "--bind", ferrytest.LOOPBACK,
                  "--max-transfers-per-ip", "2000", "--max-listings", "256"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def random_size(rng):
    roll = rng.random()
    if roll < 0.03:
        return 0
    if roll < 0.65:
        return rng.randrange(1, 16 * KIB)
    if roll < 0.95:
        return rng.randrange(16 * KIB, 256 * KIB)
    return rng.randrange(256 * KIB, ARGS.max_size + 1)


class Ledger:
    """Everything every client did, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.versions = {}   # name -> {sha256}: every content ever sent under that name
        self.sizes = {}      # name -> {size}
        self.acked = {}      # name -> [(start, ok time, sha256)] of acknowledged PUTs
        self.unsure = {}     # name -> {sha256} of PUTs that failed without an answer
        self.private_last = {}  # private name -> sha256 of its last acknowledged PUT
        self.counts = dict(sessions=0, get=0, put=0, ls=0, ferry_runs=0, bytes_up=0,
                           bytes_down=0, errors=0, corrupted=0, lost=0)
        self.problems = []   # the first few, printed at the end

    def add(self, **amounts):
        with self.lock:
            for key, value in amounts.items():
                self.counts[key] += value

    def problem(self, kind, text):
        with self.lock:
            self.counts[kind] += 1
            if len(self.problems) < 30:
                self.problems.append("%s: %s" % (kind, text))

    def will_put(self, name, data):
        digest = sha256(data)
        with self.lock:
            self.versions.setdefault(name, set()).add(digest)
            self.sizes.setdefault(name, set()).add(len(data))
        return digest

    def put_done(self, name, digest, started, ok):
        with self.lock:
            self.acked.setdefault(name, []).append((started, ok, digest))
            if name.startswith("p/"):
                self.private_last[name] = digest

    def put_unsure(self, name, digest):
        with self.lock:
            self.unsure.setdefault(name, set()).add(digest)

    def is_version(self, name, data):
        with self.lock:
            return sha256(data) in self.versions.get(name, ())

    def size_known(self, name, size):
        with self.lock:
            return size in self.sizes.get(name, ())

    def possible_last(self, name):
        """Versions that may be the file's content once every client stopped: acknowledged
        PUTs that no acknowledged PUT started after (its rename came later), and the PUTs
        that failed without an answer (they may have been stored)."""
        with self.lock:
            acked = self.acked.get(name, [])
            latest_start = max(start for start, _, _ in acked)
            return ({digest for _, ok, digest in acked if ok >= latest_start}
                    | self.unsure.get(name, set()))


def supported_options(options):
    """`options` without the (option, value) pairs this ferryd's --help does not list."""
    result = subprocess.run([ARGS.ferryd, "--help"], capture_output=True, text=True,
                            timeout=10, stdin=subprocess.DEVNULL)
    kept, index = [], 0
    while index < len(options):
        option = options[index]
        has_value = index + 1 < len(options) and not options[index + 1].startswith("--")
        if option.startswith("--") and option not in result.stdout:
            print("soak: ferryd does not know %s: left out" % option, flush=True)
        else:
            kept += options[index:index + (2 if has_value else 1)]
        index += 2 if has_value else 1
    return kept


class Abuser:
    """The abusive client, from ABUSER. Its threads stop at the soak's deadline; every socket
    has a timeout. What the server did to it is counted, not judged."""

    def __init__(self, soak):
        self.soak = soak
        self.lock = threading.Lock()
        self.counts = dict(hog_opened=0, hog_held_peak=0, hog_cut=0, listings=0,
                           listings_complete=0, listings_cut=0, reopen_rounds=0,
                           reopened=0, reopen_in_use=0, outside_refused=0, failures=0)
        self.refusals = {}   # OPEN or LS refusal text (limits replaced by N) -> count
        self.held = 0
        self.failures = []

    def add(self, **amounts):
        with self.lock:
            for key, value in amounts.items():
                self.counts[key] += value

    def refused(self, head):
        text = head.decode("utf-8", "replace").strip()
        with self.lock:
            self.refusals[text] = self.refusals.get(text, 0) + 1

    def hold(self, delta):
        with self.lock:
            self.held += delta
            self.counts["hog_held_peak"] = max(self.counts["hog_held_peak"], self.held)

    def guarded(self, body, index):
        try:
            body(index)
        except Exception as e:  # the abuser's own trouble: counted, printed, not an error
            self.add(failures=1)
            with self.lock:
                if len(self.failures) < 10:
                    self.failures.append("%s %d: %r" % (body.__name__, index, e))

    def deadline(self):
        return self.soak.stop_at

    def control(self):
        return Control(self.soak.server.port, timeout=10.0, source=ABUSER)

    def hog(self, index):
        """OPENs and connects transfers until refused (or HOG_PER_SESSION), and keeps them
        with a byte every 0.5 s: even ones a request head that never ends, odd ones a PUT's
        data that never ends. A connection the server closes is a cut; then it asks again."""
        held = []  # [socket, payload, bytes sent]
        control = None
        serial = 0
        try:
            while time.monotonic() < self.deadline():
                if control is None:
                    control = self.control()
                while len(held) < HOG_PER_SESSION and time.monotonic() < self.deadline():
                    head = control.request("OPEN 0\n\n")
                    if not head.startswith(b"OPENED "):
                        self.refused(head)
                        break
                    self.add(hog_opened=1)
                    sock = ferrytest.connect(int(head.split()[1]), timeout=10.0, source=ABUSER)
                    serial += 1
                    if serial % 2:
                        sock.sendall(b"PUT\nFILENAME: %s/hog-%d-%d.bin\nFILESIZE: 100000\n\n"
                                     % (ABUSE_DIR.encode(), index, serial))
                        payload = b"h" * 100000
                    else:
                        payload = b"GET\nX-Pad: " + b"p" * 100000
                    held.append([sock, payload, 0])
                    self.hold(1)
                for _ in range(4):  # 2 s of trickling before asking again
                    if time.monotonic() >= self.deadline():
                        break
                    time.sleep(0.5)
                    for entry in list(held):
                        sock, payload, sent = entry
                        try:
                            sock.send(payload[sent:sent + 1])
                            entry[2] += 1
                            closed = False
                            readable = select.select([sock], [], [], 0)[0]
                            if readable:
                                closed = sock.recv(65536) == b""
                        except OSError:
                            closed = True
                        if closed:
                            self.add(hog_cut=1)
                            self.hold(-1)
                            held.remove(entry)
                            sock.close()
        finally:
            for sock, _, _ in held:
                sock.close()
                self.hold(-1)
            if control is not None:
                control.close()

    def slow_lister(self, index):
        """LS of abuse/big read 256 bytes every 0.5 s (index 0: never read, held until the
        server gives up on it), with a small receive buffer; again when it ends."""
        while time.monotonic() < self.deadline():
            control = self.control()
            try:
                head = control.request("OPEN 0\n\n")
                if not head.startswith(b"OPENED "):
                    self.refused(head)
                    time.sleep(0.5)
                    continue
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.settimeout(10.0)
                sock.bind((ABUSER, 0))
                sock.connect((ferrytest.LOOPBACK, int(head.split()[1])))
                watcher = select.poll()
                watcher.register(sock, select.POLLRDHUP)
                try:
                    sock.sendall(b"LS %s/big\n\n" % ABUSE_DIR.encode())
                    self.add(listings=1)
                    received = b""
                    lines = 0
                    closed = False
                    # A listing the server cut still drains from the kernel's buffers at
                    # the reader's pace: after two windows it is dropped and begun again.
                    until = min(self.deadline(), time.monotonic() + 2 * ARGS.transfer_timeout + 1)
                    while time.monotonic() < until:
                        if index == 0:
                            # Only the close is watched for (the peer's FIN or a reset,
                            # seen even with unread data before it): nothing is read.
                            events = watcher.poll(500)
                            if events and events[0][1] & (select.POLLRDHUP | select.POLLHUP
                                                          | select.POLLERR):
                                closed = True
                                break
                            continue
                        time.sleep(0.5)
                        events = watcher.poll(0)
                        size = 256
                        if events and events[0][1] & (select.POLLRDHUP | select.POLLHUP
                                                      | select.POLLERR):
                            size = 1 << 20  # the server is done: what is left, at once
                        try:
                            chunk = sock.recv(size)
                        except (socket.timeout, BlockingIOError):
                            continue
                        except OSError:
                            chunk = b""
                        if not chunk:
                            closed = True
                            break
                        if not received and chunk.startswith(b"ERROR"):
                            self.refused(chunk)
                            closed = None
                            break
                        received = (received + chunk)[-1024:]
                        lines += chunk.count(b"\n")
                    if closed:
                        if lines - 2 >= ABUSE_ENTRIES and received.endswith(b"\n"):
                            self.add(listings_complete=1)
                        else:
                            self.add(listings_cut=1)
                finally:
                    sock.close()
            finally:
                control.close()

    def port_reopener(self, index):
        """OPEN 0, close the session (its port closes), OPEN that same port in a new
        session; and OPEN 2000, outside the ephemeral range."""
        while time.monotonic() < self.deadline():
            self.add(reopen_rounds=1)
            first = self.control()
            try:
                head = first.request("OPEN 0\n\n")
            finally:
                first.close()
            if not head.startswith(b"OPENED "):
                self.refused(head)
                time.sleep(0.1)
                continue
            port = int(head.split()[1])
            second = self.control()
            try:
                head = b""
                for _ in range(20):  # the first session's end may lag a little
                    head = second.request("OPEN %d\n\n" % port)
                    if not head.endswith(b"is in use\n\n"):
                        break
                    self.add(reopen_in_use=1)
                    time.sleep(0.01)
                if head.startswith(b"OPENED "):
                    self.add(reopened=1)
                else:
                    self.refused(head)
                head = second.request("OPEN 2000\n\n")
                if head.startswith(b"ERROR port 2000 refused: outside"):
                    self.add(outside_refused=1)
                elif not head.startswith(b"OPENED "):
                    self.refused(head)
                second.request("QUIT\n\n")
            finally:
                second.close()
            time.sleep(0.02)

    def report(self):
        c = self.counts
        print("soak: abuse from %s: hog %d transfers opened, %d held at most, %d cut by the "
              "server; listings of %d entries: %d begun, %d read whole, %d seen cut by the reader; port re-opener "
              "%d rounds, %d re-opened, %d answers 'in use', %d OPEN 2000 refused; "
              "%d abuser failures" % (
                  ABUSER, c["hog_opened"], c["hog_held_peak"], c["hog_cut"], ABUSE_ENTRIES,
                  c["listings"], c["listings_complete"], c["listings_cut"],
                  c["reopen_rounds"], c["reopened"], c["reopen_in_use"], c["outside_refused"],
                  c["failures"]))
        # A listing the server cut still reaches a slow reader at its own pace from the
        # kernel's socket buffers, so the cuts are counted from the server's log.
        log = self.soak.server.log()
        listings_cut = len(re.findall(r'LS "%s/big" .*(?:no progress|slower than)' % ABUSE_DIR,
                                      log))
        puts_cut = len(re.findall(r'PUT "%s/hog-[^"]*" .*(?:no progress|slower than)'
                                  % ABUSE_DIR, log))
        slower = len(re.findall(r"slower than \d+ bytes/s", log))
        print("soak: abuse in ferryd's log: %d listings of %s/big cut, %d trickling PUTs cut, "
              "%d lines 'slower than'" % (listings_cut, ABUSE_DIR, puts_cut, slower))
        for text, count in sorted(self.refusals.items(), key=lambda item: -item[1]):
            print("  abuse refused %d x: %s" % (count, text))
        for line in self.failures:
            print("  abuser: " + line)


class Soak:
    def __init__(self, seed):
        self.seed = seed
        self.base = tempfile.mkdtemp(prefix="ferry-soak-")
        self.root = os.path.join(self.base, "root")
        self.ledger = Ledger()
        self.shared = ["s%02d.bin" % i for i in range(SHARED_FILES // 2)] + \
                      ["d/s%02d.bin" % i for i in range(SHARED_FILES // 2, SHARED_FILES)]
        self.stop_at = None
        self.server = None
        self.abuser = None

    # ------------------------------------------------------------------ set-up

    def populate(self):
        rng = random.Random(self.seed)
        for folder in ("", "d", "p"):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        for name in self.shared:
            data = rng.randbytes(random_size(rng))
            digest = self.ledger.will_put(name, data)
            self.ledger.put_done(name, digest, -1.0, -1.0)
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(data)
        if ARGS.abuse:
            # Long names: 5.5 MB of listing, more than a loopback socket's buffers hold (a
            # send buffer grows to 4 MiB), so that a slow reader holds the listing in the
            # server, not only in the kernel. Hard links to one file: fast on any disk.
            big = os.path.join(self.root, ABUSE_DIR, "big")
            os.makedirs(big)
            first = None
            for index in range(ABUSE_ENTRIES):
                path = os.path.join(big, "entry-%05d-%s" % (index, "n" * 240))
                try:
                    if first is None:
                        raise OSError("nothing to link to yet")
                    os.link(first, path)
                except OSError:
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
                    first = path

    # ------------------------------------------------------------------ raw clients

    def raw_client(self, index):
        rng = random.Random("%s-%d" % (self.seed, index))
        private = "p/c%03d.bin" % index
        control = None
        while time.monotonic() < self.stop_at:
            try:
                if control is None:
                    control = Control(self.server.port, timeout=OP_TIMEOUT)
                    self.ledger.add(sessions=1)
                roll = rng.random()
                if roll < 0.45:
                    self.raw_get(control, rng.choice(self.shared))
                elif roll < 0.75:
                    self.raw_put(control, rng.choice(self.shared), rng)
                elif roll < 0.88:
                    self.raw_ls(control, rng.choice(["", "d", "p"]))
                else:
                    digest = self.raw_put(control, private, rng)
                    if digest is not None:
                        self.raw_get(control, private, exactly=digest)
                if rng.random() < 0.05:  # a new session now and then
                    if control.request("QUIT\n\n") != b"BYE\n\n":
                        self.ledger.problem("errors", "QUIT not answered by BYE")
                    control.close()
                    control = None
            except (OSError, AssertionError) as e:
                self.ledger.problem("errors", "client %d: %r" % (index, e))
                if control is not None:
                    control.close()
                control = None
        if control is not None:
            control.close()

    def raw_get(self, control, name, exactly=None):
        head, body = transfer(control.open("0"), "GET\nFILENAME: %s\n\n" % name,
                              timeout=OP_TIMEOUT)
        self.ledger.add(get=1, bytes_down=len(body))
        start, headers = ferrytest.parse_head(head)
        if start != "OK" or "filesize" not in headers:
            self.ledger.problem("errors", "GET %s answered %r" % (name, head))
            return
        if int(headers["filesize"]) != len(body):
            self.ledger.problem("corrupted", "GET %s: FILESIZE %s, %d bytes"
                                % (name, headers["filesize"], len(body)))
        elif exactly is not None and sha256(body) != exactly:
            self.ledger.problem("lost", "GET %s right after its acknowledged PUT: other "
                                "content (%d bytes)" % (name, len(body)))
        elif not self.ledger.is_version(name, body):
            self.ledger.problem("corrupted", "GET %s: %d bytes that are no version of it"
                                % (name, len(body)))

    def raw_put(self, control, name, rng):
        data = rng.randbytes(random_size(rng))
        digest = self.ledger.will_put(name, data)
        port = control.open("0")
        started = time.monotonic()
        try:
            head, body = transfer(port, "PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                  % (name, len(data)), data, timeout=OP_TIMEOUT)
        except OSError:
            self.ledger.put_unsure(name, digest)
            raise
        ok = time.monotonic()
        self.ledger.add(put=1, bytes_up=len(data))
        if head != b"OK\nFILESIZE: %d\n\n" % len(data) or body:
            self.ledger.problem("errors", "PUT %s (%d bytes) answered %r" % (name, len(data), head))
            return None
        self.ledger.put_done(name, digest, started, ok)
        return digest

    def raw_ls(self, control, folder):
        head, body = transfer(control.open("0"), "LS %s\n\n" % folder, timeout=OP_TIMEOUT)
        self.ledger.add(ls=1, bytes_down=len(body))
        if head != b"OK\n\n":
            self.ledger.problem("errors", "LS %s answered %r" % (folder, head))
            return
        try:
            entries = parse_listing(body)
        except AssertionError as e:
            self.ledger.problem("corrupted", "LS %s: %s" % (folder, e))
            return
        for kind, size, _, raw_name in entries:
            name = (folder + "/" if folder else "") + raw_name.decode("utf-8", "replace")
            if kind == "d" and name in ("d", "p") + ((ABUSE_DIR,) if ARGS.abuse else ()):
                continue
            if kind != "f" or not self.ledger.size_known(name, size):
                self.ledger.problem("corrupted", "LS %s: unexpected entry %s %d %s"
                                    % (folder, kind, size, name))

    # ------------------------------------------------------------------ ferry clients

    def ferry_client(self, index):
        """Runs ferry with scripts of 6 commands until the deadline."""
        rng = random.Random("%s-ferry-%d" % (self.seed, index))
        work = os.path.join(self.base, "ferry-%03d" % index)
        os.mkdir(work)
        private = "p/c%03d.bin" % index
        while time.monotonic() < self.stop_at:
            commands, puts, gets = [], [], []
            for number in range(6):
                roll = rng.random()
                if roll < 0.45:
                    name = rng.choice(self.shared + [private] * (1 if self.ledger.acked.get(
                        private) else 0))
                    local = "got%d" % number
                    commands.append("get %s %s" % (name, local))
                    gets.append((name, local))
                elif roll < 0.85:
                    name = rng.choice(self.shared + [private])
                    data = rng.randbytes(random_size(rng))
                    local = "put%d" % number
                    with open(os.path.join(work, local), "wb") as f:
                        f.write(data)
                    commands.append("put %s %s" % (local, name))
                    puts.append((name, self.ledger.will_put(name, data), len(data)))
                else:
                    commands.append("ls %s" % rng.choice(["", "d", "p"]))
            started = time.monotonic()
            try:
                result = subprocess.run(
                    [ARGS.ferry, "-q", "--timeout", str(int(OP_TIMEOUT)), ferrytest.LOOPBACK,
                     str(self.server.port), "-c", "; ".join(commands)],
                    cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                    timeout=OP_TIMEOUT * 2)
            except subprocess.TimeoutExpired:
                for name, digest, _ in puts:
                    self.ledger.put_unsure(name, digest)
                self.ledger.problem("errors", "ferry %d did not finish: %s" % (index, commands))
                continue
            ok = time.monotonic()
            self.ledger.add(sessions=1, ferry_runs=1, ls=len(commands) - len(puts) - len(gets))
            if result.returncode != 0:
                for name, digest, _ in puts:
                    self.ledger.put_unsure(name, digest)
                self.ledger.problem("errors", "ferry %d exited %d: %s" % (
                    index, result.returncode, result.stderr.decode(errors="replace").strip()))
                continue
            for name, digest, size in puts:
                # Stored some time within the run: its interval stands for the PUT's.
                self.ledger.put_done(name, digest, started, ok)
                self.ledger.add(put=1, bytes_up=size)
            for name, local in gets:
                with open(os.path.join(work, local), "rb") as f:
                    body = f.read()
                os.unlink(os.path.join(work, local))
                self.ledger.add(get=1, bytes_down=len(body))
                if not self.ledger.is_version(name, body):
                    self.ledger.problem("corrupted", "ferry get %s: %d bytes that are no "
                                        "version of it" % (name, len(body)))

    # ------------------------------------------------------------------ the run

    def sample(self):
        pid = self.server.proc.pid
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        return fds, rss

    def run(self):
        self.populate()
        self.server = ferrytest.Ferryd(self.root, supported_options(
            SERVER_OPTIONS + ["--transfer-timeout", str(ARGS.transfer_timeout)]))
        fds0, rss0 = self.sample()
        ferry_clients = 0
        if ARGS.ferry_share > 0 and os.access(ARGS.ferry, os.X_OK):
            ferry_clients = max(1, int(ARGS.clients * ARGS.ferry_share))
        print("soak: %d clients (%d of them the ferry client) for %.0f s against ferryd %d "
              "on port %d, %d shared files, seed %s"
              % (ARGS.clients, ferry_clients, ARGS.seconds, self.server.proc.pid,
                 self.server.port, len(self.shared), self.seed), flush=True)
        began = time.monotonic()
        self.stop_at = began + ARGS.seconds
        threads = []
        for index in range(ARGS.clients):
            body = self.ferry_client if index < ferry_clients else self.raw_client
            threads.append(threading.Thread(target=self.guarded, args=(body, index), daemon=True))
        if ARGS.abuse:
            self.abuser = Abuser(self)
            for body, count in ((self.abuser.hog, HOG_SESSIONS),
                                (self.abuser.slow_lister, SLOW_LISTERS),
                                (self.abuser.port_reopener, 1)):
                for index in range(count):
                    threads.append(threading.Thread(target=self.abuser.guarded,
                                                    args=(body, index), daemon=True))
        for thread in threads:
            thread.start()
        peak_fds, peak_rss = fds0, rss0
        next_report = began + 10
        while any(t.is_alive() for t in threads) and \
                time.monotonic() < self.stop_at + OP_TIMEOUT * 2 + 10:
            time.sleep(1.0)
            if self.server.proc.poll() is not None:
                self.ledger.problem("errors", "ferryd died with status %r"
                                    % self.server.proc.returncode)
                break
            fds, rss = self.sample()
            peak_fds, peak_rss = max(peak_fds, fds), max(peak_rss, rss)
            if time.monotonic() >= next_report:
                next_report += 10
                c = self.ledger.counts
                print("  %4.0f s: %d GET, %d PUT, %d LS, %d errors, %d corrupted, %d lost; "
                      "ferryd %d fds, %d KiB" % (time.monotonic() - began, c["get"], c["put"],
                                                 c["ls"], c["errors"], c["corrupted"], c["lost"],
                                                 fds, rss), flush=True)
        took = time.monotonic() - began
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            self.ledger.problem("errors", "%d clients still running after the deadline"
                                % len(stuck))
        self.final_check()
        time.sleep(0.5)
        fds1, rss1 = self.sample()
        status = self.server.stop(timeout=15.0)
        leftovers = [os.path.join(d, n) for d, _, names in os.walk(self.root) for n in names
                     if n.startswith(ferrytest.TEMPORARY_PREFIX)]
        return self.report(took, status, leftovers, (fds0, peak_fds, fds1), (rss0, peak_rss, rss1))

    def guarded(self, body, index):
        try:
            body(index)
        except Exception as e:  # a bug of the soak itself still counts
            self.ledger.problem("errors", "client %d stopped: %r" % (index, e))

    def final_check(self):
        """Every shared file holds a version that may be the last; every private file its
        client's last acknowledged version; through GET and on disk."""
        control = Control(self.server.port, timeout=OP_TIMEOUT)
        try:
            for name in self.shared:
                head, body = transfer(control.open("0"), "GET\nFILENAME: %s\n\n" % name,
                                      timeout=OP_TIMEOUT)
                with open(os.path.join(self.root, name), "rb") as f:
                    on_disk = f.read()
                if head != b"OK\nFILESIZE: %d\n\n" % len(body) or on_disk != body:
                    self.ledger.problem("corrupted", "final GET %s differs from the disk" % name)
                elif sha256(body) not in self.ledger.possible_last(name):
                    self.ledger.problem("lost", "%s: holds no version that may be the last "
                                        "acknowledged one" % name)
            for name, digest in sorted(self.ledger.private_last.items()):
                path = os.path.join(self.root, name)
                try:
                    with open(path, "rb") as f:
                        held = sha256(f.read())
                except OSError as e:
                    held = repr(e)
                if held != digest and digest not in self.ledger.unsure.get(name, set()) \
                        and held not in self.ledger.unsure.get(name, set()):
                    self.ledger.problem("lost", "%s: not its last acknowledged version" % name)
            control.request("QUIT\n\n")
        finally:
            control.close()

    def report(self, took, status, leftovers, fds, rss):
        c = self.ledger.counts
        transfers = c["get"] + c["put"] + c["ls"]
        moved = c["bytes_up"] + c["bytes_down"]
        print("soak: %.0f s, %d clients: %d sessions (%d ferry runs), %d transfers "
              "(%d GET, %d PUT, %d LS), %.1f transfers/s" % (
                  took, ARGS.clients, c["sessions"], c["ferry_runs"], transfers, c["get"],
                  c["put"], c["ls"], transfers / took))
        print("soak: %d bytes (%.1f MiB) moved: %d up, %d down, %.1f MiB/s" % (
            moved, moved / MIB, c["bytes_up"], c["bytes_down"], moved / MIB / took))
        print("soak: ferryd fds %d at start, %d at most, %d at the end; VmRSS %d KiB at start, "
              "%d KiB at most, %d KiB at the end" % (fds + rss))
        print("soak: errors %d, corrupted %d, lost %d, temporary files left %d, "
              "ferryd exit status %r" % (c["errors"], c["corrupted"], c["lost"], len(leftovers),
                                         status))
        for line in self.ledger.problems:
            print("  " + line)
        if self.abuser is not None:
            self.abuser.report()
        if status != 0:
            print(self.server.log()[-4000:])
        failed = (c["corrupted"] > 0 or c["lost"] > 0 or c["errors"] > ARGS.max_errors
                  or leftovers or status != 0 or transfers == 0)
        print("soak: %s" % ("FAILED" if failed else "passed"))
        return 1 if failed else 0

    def cleanup(self):
        if self.server is not None:
            self.server.kill()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(BINARIES, ignore_errors=True)


def main():
    seed = ARGS.seed if ARGS.seed is not None else random.randrange(1 << 32)
    soak = Soak(seed)
    try:
        return soak.run()
    finally:
        soak.cleanup()


if __name__ == "__main__":
    sys.exit(main())
