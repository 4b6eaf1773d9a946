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
import shutil
import signal
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
            if kind == "d" and name in ("d", "p"):
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
        self.server = ferrytest.Ferryd(self.root, ["--log-level", "warn"])
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
