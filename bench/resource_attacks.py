#!/usr/bin/env python3
"""Resource attacks on ferryd, measured (issue 7). Run by hand against any ferryd build:

    python3 -B bench/resource_attacks.py --ferryd build/ferryd
    python3 -B bench/resource_attacks.py --ferryd /tmp/ferry-before/build/ferryd

and it prints a markdown table. Three parts (`--only a,b,c` to pick):

(a) a directory of 200,000 entries (made once under --dir, on the disk; kept for the next run
    unless --clean): ferryd's VmRSS after 50 LS of it that are never read; and, with one
    worker thread (--threads 1), another client's GET of a 2-byte file while 40 clients keep
    listing it (each LS held unread for 1 s, then again): median and max of 20 GETs.
(b) a descriptor hog under a 1,024-descriptor limit (`prlimit`): sessions from 127.0.0.2
    (then from 127.0.0.2-127.0.0.9) OPEN and connect transfers until refused, each kept with
    a byte of a request head every 0.5 s: how many transfers it held, the first refusal, and
    whether a client from 127.0.0.1 then gets a GET through, and how fast.
(c) a cold disk: a 1 GiB file under --dir (on /work's disk), its pages evicted with
    posix_fadvise(DONTNEED) on that file only (never a global cache drop); one client GETs
    it (raw socket, bytes dropped) while another on the same worker (--threads 1) GETs a
    cached 2-byte file every 10 ms: the small GETs' median and max during the cold GET, and
    the cold GET's throughput; then the same with the file warm. The 1 GiB file is removed
    at the end.

Every server binds to 127.0.0.1; every wait has a timeout; every loop a bound. Options an
older ferryd does not know (--max-listings) are left out. Standard library only.
"""

import argparse
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPBACK = "127.0.0.1"
MIB = 1 << 20
GIB = 1 << 30
LISTEN_RE = re.compile(r"listening on \S+:(\d+)")
OPENED_RE = re.compile(rb"OPENED (\d+)\n\n")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferryd", default=os.path.join(os.path.dirname(HERE), "build", "ferryd"))
    parser.add_argument("--dir", default="/work/tmp-bench",
                        help="work folder on the disk (default /work/tmp-bench)")
    parser.add_argument("--entries", type=int, default=200000)
    parser.add_argument("--big-size", type=int, default=GIB, help="cold file size (1 GiB)")
    parser.add_argument("--only", default="a,b,c", help="parts to run: a,b,c")
    parser.add_argument("--clean", action="store_true",
                        help="remove the 200,000-entry directory at the end")
    return parser.parse_args()


ARGS = parse_arguments()


# --------------------------------------------------------------------------- helpers

class Server:
    """ferryd on 127.0.0.1, port 0, its log read by a thread."""

    def __init__(self, root, options=(), nofile=None):
        known = subprocess.run([ARGS.ferryd, "--help"], capture_output=True, text=True,
                               timeout=10, stdin=subprocess.DEVNULL).stdout
        kept, options, index = [], list(options), 0
        while index < len(options):
            width = 2 if index + 1 < len(options) and not options[index + 1].startswith("--") \
                else 1
            if options[index] in known:
                kept += options[index:index + width]
            index += width
        prefix = ["prlimit", "--nofile=%d:%d" % (nofile, nofile)] if nofile else []
        self.proc = subprocess.Popen(
            prefix + [ARGS.ferryd, "--root", root, "--bind", LOOPBACK,
                      "--log-level", "warn"] + kept + ["0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.port_found = threading.Event()
        self.port = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        # --log-level warn hides the info line; the first line is always logged.
        if not self.port_found.wait(10):
            self.stop()
            raise RuntimeError("ferryd did not start: %s" % "\n".join(self.lines))

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if len(self.lines) < 10000:
                self.lines.append(line)
            match = LISTEN_RE.search(line)
            if match and self.port is None:
                self.port = int(match.group(1))
                self.port_found.set()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
            return "killed"


def connect(port, source=None, timeout=10.0, rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    try:
        if source:
            sock.bind((source, 0))
        sock.connect((LOOPBACK, port))
    except BaseException:
        sock.close()
        raise
    return sock


class Control:
    def __init__(self, port, source=None, timeout=10.0):
        self.sock = connect(port, source, timeout)
        self.buffer = b""

    def request(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)
        return self.answer()

    def answer(self):
        while True:
            match = re.search(rb"(?:^|\n)\r?\n", self.buffer)
            if match:
                head, self.buffer = self.buffer[:match.end()], self.buffer[match.end():]
                return head
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("control closed: %r" % self.buffer[:200])
            self.buffer += chunk

    def open(self):
        head = self.request("OPEN 0\n\n")
        match = OPENED_RE.fullmatch(head)
        if not match:
            raise ConnectionError("OPEN answered %r" % head)
        return int(match.group(1))

    def close(self):
        self.sock.close()


def read_all(sock, limit=1 << 40):
    total = 0
    chunks = []
    while total < limit:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        total += len(chunk)
        if len(chunks) < 4:
            chunks.append(chunk)
    return total, b"".join(chunks)


def small_get(control, name="two.txt", expected=b"OK\nFILESIZE: 2\n\n2\n"):
    """(seconds from the GET head to the whole answer, seconds with the OPEN) or raises."""
    began = time.monotonic()
    port = control.open()
    sock = connect(port)
    try:
        started = time.monotonic()
        sock.sendall(b"GET\nFILENAME: %s\n\n" % name.encode())
        total, data = read_all(sock, 1 << 20)
        done = time.monotonic()
    finally:
        sock.close()
    if data != expected:
        raise ConnectionError("GET %s answered %r" % (name, data[:100]))
    return done - started, done - began


def ms(seconds):
    return "%.1f" % (seconds * 1000)


ROWS = []


def row(part, what, value):
    ROWS.append((part, what, value))
    print("  %s | %s | %s" % (part, what, value), flush=True)


# --------------------------------------------------------------------------- (a) listings

def big_tree():
    tree = os.path.join(ARGS.dir, "tree-%d" % ARGS.entries)
    big = os.path.join(tree, "big")
    marker = os.path.join(tree, ".complete")
    if not os.path.exists(marker):
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(big)
        started = time.monotonic()
        for index in range(ARGS.entries):
            os.close(os.open(os.path.join(big, "entry-%06d-%s" % (index, "n" * 40)),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        with open(os.path.join(tree, "two.txt"), "wb") as f:
            f.write(b"2\n")
        open(marker, "w").close()
        print("  (made %d entries in %.1f s)" % (ARGS.entries, time.monotonic() - started))
    return tree


def part_a():
    tree = big_tree()
    # RSS after 50 unread LS.
    server = Server(tree, ["--max-listings", "64"])
    try:
        control = Control(server.port)
        port = control.open()
        sock = connect(port)
        sock.sendall(b"LS big\n\n")
        started = time.monotonic()
        size, _ = read_all(sock)
        took = time.monotonic() - started
        sock.close()
        row("a", "LS of %d entries read whole: bytes, s" % ARGS.entries,
            "%d, %.2f" % (size, took))
        time.sleep(0.3)
        before = server.rss_kib()
        controls = [Control(server.port) for _ in range(5)]
        socks = []
        for index in range(50):
            sock = connect(controls[index % 5].open(), rcvbuf=4096)
            sock.sendall(b"LS big\n\n")
            socks.append(sock)
        peak, steady, began = before, time.monotonic(), time.monotonic()
        while time.monotonic() - began < 60:
            time.sleep(0.25)
            now = server.rss_kib()
            if now > peak + 512:
                steady = time.monotonic()
            peak = max(peak, now)
            if time.monotonic() - steady > 3 and time.monotonic() - began > 4:
                break
        row("a", "ferryd VmRSS before / after 50 unread LS, MiB",
            "%.1f / %.1f (+%.1f)" % (before / 1024, peak / 1024, (peak - before) / 1024))
        for sock in socks:
            sock.close()
        for c in controls:
            c.close()
        control.close()
    finally:
        row("a", "exit status (memory run)", server.stop())

    # Latency of a small GET during 40 concurrent LS, one worker.
    server = Server(tree, ["--threads", "1", "--max-listings", "64"])
    stop = threading.Event()
    listed = [0]
    refused = [0]

    def lister():
        control = None
        while not stop.is_set():
            try:
                if control is None:
                    control = Control(server.port, timeout=30)
                sock = connect(control.open(), rcvbuf=4096, timeout=30)
                try:
                    sock.sendall(b"LS big\n\n")
                    if stop.wait(1.0):
                        break
                    listed[0] += 1
                finally:
                    sock.close()
            except (OSError, ConnectionError):
                refused[0] += 1
                if control is not None:
                    control.close()
                control = None
                stop.wait(0.2)
        if control is not None:
            control.close()
    threads = [threading.Thread(target=lister, daemon=True) for _ in range(40)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        getter = Control(server.port, timeout=30)
        latencies, with_open, failures = [], [], 0
        began = time.monotonic()
        for _ in range(20):
            if time.monotonic() - began > 120:
                break
            try:
                get_only, whole = small_get(getter)
                latencies.append(get_only)
                with_open.append(whole)
            except (OSError, ConnectionError):
                failures += 1
            time.sleep(0.05)
        getter.close()
        if latencies:
            row("a", "2-byte GET during 40 LS (--threads 1), ms: median / max of %d"
                % len(latencies), "%s / %s" % (ms(statistics.median(latencies)),
                                               ms(max(latencies))))
            row("a", "same, OPEN included, ms: median / max",
                "%s / %s" % (ms(statistics.median(with_open)), ms(max(with_open))))
        else:
            row("a", "2-byte GET during 40 LS (--threads 1)",
                "none answered (%d tries, each given 30 s)" % failures)
        row("a", "small GETs failed; LS begun; lister errors", "%d; %d; %d"
            % (failures, listed[0], refused[0]))
    finally:
        stop.set()
        for thread in threads:
            thread.join(35)
        row("a", "exit status (latency run)", server.stop())
    if ARGS.clean:
        shutil.rmtree(tree, ignore_errors=True)


# --------------------------------------------------------------------------- (b) descriptors

LIMIT_RE = re.compile(rb"ERROR (too many transfer|server busy)")


def hog(server, sources, held, lock, limit=3000, seconds=30.0):
    """Sessions from each of `sources` in turn OPEN and connect until refused; after a
    refusal a new session of the same address, until a fresh session's first OPEN is refused
    too (that address is done). An answer that is no limit's refusal (descriptors run out,
    a timeout) ends the hog: the server is exhausted. Connected sockets go into `held`.
    Returns (sessions, first refusal, last refusal)."""
    sessions = []
    first = last = None
    deadline = time.monotonic() + seconds
    for source in sources:
        exhausted = False
        for _ in range(500):  # sessions of this address
            if len(held) >= limit or time.monotonic() >= deadline:
                break
            count = 0
            try:
                control = Control(server.port, source=source, timeout=5)
                sessions.append(control)
                head = control.request("OPEN 0\n\n")
                retries = 0
                while len(held) < limit and time.monotonic() < deadline:
                    if head.startswith(b"ERROR too many transfer ports open") and retries < 40:
                        # Connections not accepted yet count as unconnected ports: wait.
                        retries += 1
                        time.sleep(0.05)
                        head = control.request("OPEN 0\n\n")
                        continue
                    if not OPENED_RE.fullmatch(head):
                        break
                    sock = connect(int(OPENED_RE.fullmatch(head).group(1)), source, timeout=5)
                    sock.send(b"G")
                    with lock:
                        held.append(sock)
                    count += 1
                    head = control.request("OPEN 0\n\n")
            except (OSError, ConnectionError) as e:
                head = repr(e).encode()
            if not OPENED_RE.fullmatch(head):
                last = head.decode("utf-8", "replace").strip()
                first = first or last
                exhausted = not LIMIT_RE.match(head)
            if count == 0 or exhausted:
                break  # a fresh session got nothing: this address is done
        if exhausted:
            break
    return sessions, first, last


def trickle(socks, lock, stop):
    """A byte of a request head that never ends, every 0.5 s, on every held socket."""
    payload = b"ET\nX-Pad: " + b"p" * 100000
    sent = {}
    while not stop.wait(0.5):
        with lock:
            current = list(socks)
        for sock in current:
            offset = sent.get(sock.fileno(), 0)
            try:
                sock.send(payload[offset:offset + 1])
            except OSError:
                pass
            sent[sock.fileno()] = offset + 1


def part_b():
    root = tempfile.mkdtemp(prefix="hog-", dir=ARGS.dir)
    with open(os.path.join(root, "two.txt"), "wb") as f:
        f.write(b"2\n")
    try:
        for label, sources in (("one address", ["127.0.0.2"]),
                               ("8 addresses", ["127.0.0.%d" % i for i in range(2, 10)])):
            server = Server(root, nofile=1024)
            stop = threading.Event()
            held, sessions, lock = [], [], threading.Lock()
            try:
                fds0 = server.fds()
                trickler = threading.Thread(target=trickle, args=(held, lock, stop), daemon=True)
                trickler.start()
                started = time.monotonic()
                sessions, first, last = hog(server, sources, held, lock)
                took = time.monotonic() - started
                fds = server.fds()
                row("b", "hog from %s under 1,024 fds: transfers held, sessions, s" % label,
                    "%d, %d, %.2f" % (len(held), len(sessions), took))
                row("b", "hog from %s: first / last refusal" % label,
                    "%s / %s" % (first, last))
                row("b", "hog from %s: ferryd fds before / with the hog" % label,
                    "%d / %d" % (fds0, fds))
                try:
                    control = Control(server.port, timeout=5)
                    get_only, whole = small_get(control)
                    control.request("QUIT\n\n")
                    control.close()
                    result = "worked: %s ms (OPEN included: %s ms)" % (ms(get_only), ms(whole))
                except (OSError, ConnectionError) as e:
                    result = "failed: %s" % str(e)[:120]
                row("b", "hog from %s: another client's 2-byte GET from 127.0.0.1" % label,
                    result)
            finally:
                stop.set()
                for sock in held:
                    sock.close()
                for control in sessions:
                    control.close()
                row("b", "hog from %s: exit status" % label, server.stop())
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- (c) cold disk

def resident_share(path):
    """The share of `path`'s pages in the page cache, by util-linux fincore; None without."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE",
                              path], capture_output=True, text=True, timeout=30).stdout.split()
        return int(out[0]) / max(1, int(out[1]))
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 * MIB):
            pass


def get_during(server, name, size):
    """The GET of `name` (bytes dropped) while another session GETs two.txt every 10 ms.
    Returns (throughput MB/s, seconds, small GET latencies, small GET failures)."""
    stop = threading.Event()
    small, failures = [], [0]

    def poller():
        control = Control(server.port, timeout=30)
        try:
            while not stop.is_set() and len(small) < 100000:
                try:
                    small.append(small_get(control)[0])
                except (OSError, ConnectionError):
                    failures[0] += 1
                    control.close()
                    control = Control(server.port, timeout=30)
                stop.wait(0.01)
        finally:
            control.close()
    control = Control(server.port, timeout=30)
    sock = connect(control.open(), timeout=60)
    thread = threading.Thread(target=poller, daemon=True)
    thread.start()
    time.sleep(0.3)
    before = len(small)
    started = time.monotonic()
    sock.sendall(b"GET\nFILENAME: %s\n\n" % name.encode())
    total, _ = read_all(sock, size + 4096)
    took = time.monotonic() - started
    during = small[before:]
    stop.set()
    thread.join(35)
    sock.close()
    control.close()
    if total < size:
        raise RuntimeError("the GET of %s got %d of %d bytes" % (name, total, size))
    return size / took / 1e6, took, during, failures[0]


def part_c():
    root = tempfile.mkdtemp(prefix="cold-", dir=ARGS.dir)
    path = os.path.join(root, "big.bin")
    try:
        with open(os.path.join(root, "two.txt"), "wb") as f:
            f.write(b"2\n")
        block = os.urandom(MIB)
        with open(path, "wb") as f:
            for _ in range(ARGS.big_size // MIB):
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
        server = Server(root, ["--threads", "1"])
        try:
            for label in ("cold", "warm"):
                if label == "cold":
                    evict(path)
                else:
                    warm(path)
                share = resident_share(path)
                rate, took, small, failures = get_during(server, "big.bin", ARGS.big_size)
                cached = "" if share is None else ", %.0f %% cached before" % (share * 100)
                row("c", "%s GET of %d MiB%s: MB/s, s" % (label, ARGS.big_size // MIB, cached),
                    "%.0f, %.2f" % (rate, took))
                if small:
                    row("c", "small GETs every 10 ms during the %s GET (--threads 1), ms: "
                        "median / max of %d" % (label, len(small)),
                        "%s / %s%s" % (ms(statistics.median(small)), ms(max(small)),
                                       ", %d failed" % failures if failures else ""))
                else:
                    row("c", "small GETs during the %s GET" % label,
                        "none completed (%d failed)" % failures)
        finally:
            row("c", "exit status", server.stop())
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    os.makedirs(ARGS.dir, exist_ok=True)
    print("resource attacks on %s (load average %s)" % (
        ARGS.ferryd, open("/proc/loadavg").read().split()[0]), flush=True)
    parts = {"a": part_a, "b": part_b, "c": part_c}
    for name in ARGS.only.split(","):
        try:
            parts[name.strip()]()
        except Exception as e:  # one part's failure is reported; the others still run
            row(name, "part failed", repr(e)[:200])
    print()
    print("| part | what | value |")
    print("|---|---|---|")
    for part, what, value in ROWS:
        print("| %s | %s | %s |" % (part, what, str(value).replace("|", "\\|")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
