#!/usr/bin/python3
"""A slow file system must not hold up other sessions' answers (issue 8, section 1). Measured.

    /usr/bin/python3 -B bench/slow_fs.py --ferryd build-slow/ferryd            # as root
    /usr/bin/python3 -B bench/slow_fs.py --ferryd build-slow/ferryd --slow 0,1,4,8 \
        --delay-ms 200 --duration 10 --json /tmp/slow_fs.json

The slow file system is a FUSE file system served by this very script (`slow_fs.py fuse
MOUNTPOINT`): it speaks the kernel's FUSE protocol on /dev/fuse itself (no libfuse, no
PyPI), keeps its tree in memory and sleeps --delay-ms in every request before it answers.
Entry and attribute timeouts are 0, so the kernel caches no name or attribute: every path
component of every request goes to the daemon and waits. (This machine's kernel has no
device-mapper (/dev/mapper/control: no such device; no modules to load), so the dm-delay
target is not to be had, and /proc/filesystems lists no nfs or cifs either.)

The served root is a directory on tmpfs (/dev/shm) holding `fast.txt` (2 bytes) and `slow/`,
the FUSE mount. ferryd is started with `--bind 127.0.0.1 --threads 1`; by default
(`--mount after`) the slow tree is mounted one second after ferryd started, when its start-up
sweep of unfinished uploads (a walk of the whole tree on the disk pool) is over, so that the
pool has its four threads; `--mount before` mounts it first, and the sweep walks the slow
tree too, holding one pool thread for as long as that takes. Each round:
- N "slow" sessions (a separate process, `slow_fs.py load`), each on its own control
  connection and its own directory slow/sK, send MKDIR, STAT, DELETE, RMDIR one at a time,
  in a loop, for the whole round (`--slow-kind get` or `put`: GETs of its empty files or
  2-byte PUTs into it instead, by OPEN and a transfer connection);
- one "fast" session, after a one-second warm-up, for --duration seconds, every 10 ms either
  sends `STAT fast.txt` and waits for the answer (mode stat), or GETs fast.txt via OPEN 0 and
  a transfer connection (mode get); `--modes` may add `ls` (LS of fastdir, one entry) and
  `put` (2 bytes into fastdir), the other two users of the disk pool. Latency is from the
  first byte sent to the last byte of the answer (for GET: OPEN sent to the file's last byte
  and the close).
It prints a markdown table (median, p90, p99, max of the fast session; answers and median
latency of the slow sessions; load average) and the FUSE requests the daemon served.

Cleanup: the slow sessions stop at the round's end, then ferryd (SIGTERM by PID, then
SIGKILL), then the FUSE daemon, which unmounts (MNT_DETACH) as it exits; the script checks
/proc/self/mountinfo and unmounts itself if the daemon could not, then removes its
directory. Every wait has a timeout, every loop a bound; the FUSE daemon ends by itself after
--max-seconds even if nobody stops it. Standard library only; needs root and /dev/fuse.
"""

import argparse
import ctypes
import errno
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ------------------------------------------------------------------------------------------
# The FUSE daemon: the kernel protocol 7.31, the layouts of <linux/fuse.h>.

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_SETATTR = 1, 2, 3, 4
FUSE_MKDIR, FUSE_UNLINK, FUSE_RMDIR, FUSE_RENAME = 9, 10, 11, 12
FUSE_OPEN, FUSE_READ, FUSE_WRITE, FUSE_STATFS, FUSE_RELEASE = 14, 15, 16, 17, 18
FUSE_FSYNC, FUSE_FLUSH, FUSE_INIT = 20, 25, 26
FUSE_OPENDIR, FUSE_READDIR, FUSE_RELEASEDIR, FUSE_FSYNCDIR = 27, 28, 29, 30
FUSE_ACCESS, FUSE_CREATE, FUSE_INTERRUPT, FUSE_DESTROY = 34, 35, 36, 38
FUSE_BATCH_FORGET, FUSE_RENAME2 = 42, 45
NO_REPLY = {FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT}
NOT_DELAYED = {FUSE_INIT, FUSE_DESTROY} | NO_REPLY
OPCODE_NAMES = {
    1: "LOOKUP", 2: "FORGET", 3: "GETATTR", 4: "SETATTR", 9: "MKDIR", 10: "UNLINK",
    11: "RMDIR", 12: "RENAME", 14: "OPEN", 15: "READ", 16: "WRITE", 17: "STATFS",
    18: "RELEASE", 20: "FSYNC", 22: "GETXATTR", 23: "LISTXATTR", 25: "FLUSH", 26: "INIT",
    27: "OPENDIR", 28: "READDIR", 29: "RELEASEDIR", 30: "FSYNCDIR", 34: "ACCESS",
    35: "CREATE", 36: "INTERRUPT", 38: "DESTROY", 42: "BATCH_FORGET", 45: "RENAME2",
}
IN_HEADER = struct.Struct("<IIQQIIIHH")  # len, opcode, unique, nodeid, uid, gid, pid, ext, pad
OUT_HEADER = struct.Struct("<IiQ")  # len, error, unique
ATTR = struct.Struct("<QQQQQQIIIIIIIIII")  # fuse_attr, 88 bytes
FATTR_MODE, FATTR_SIZE = 1 << 0, 1 << 3
RENAME_NOREPLACE = 1
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2


class Node:
    __slots__ = ("ino", "mode", "children", "data", "mtime")

    def __init__(self, ino, mode):
        self.ino = ino
        self.mode = mode
        self.children = {} if stat.S_ISDIR(mode) else None
        self.data = bytearray() if stat.S_ISREG(mode) else None
        self.mtime = time.time()


class SlowFs:
    """An in-memory tree answered over /dev/fuse, each answer after `delay` seconds."""

    def __init__(self, mountpoint, delay, dirs, files):
        self.mountpoint = mountpoint
        self.delay = delay
        self.lock = threading.Lock()
        self.nodes = {1: Node(1, stat.S_IFDIR | 0o755)}
        self.next_ino = 2
        self.counts = {}
        self.readdir_times = [0.0, 0.0]  # first and last READDIR (ferryd's start-up sweep)
        self.stopping = threading.Event()
        for d in range(dirs):  # slow/s0 ... with files f0 ...: something for DELETE
            directory = self._add(self.nodes[1], f"s{d}", stat.S_IFDIR | 0o755)
            for f in range(files):
                self._add(directory, f"f{f}", stat.S_IFREG | 0o644)

    def _add(self, parent, name, mode):
        node = Node(self.next_ino, mode)
        self.next_ino += 1
        self.nodes[node.ino] = node
        parent.children[name] = node.ino
        parent.mtime = time.time()
        return node

    # -- replies ------------------------------------------------------------------------
    def attr(self, node):
        size = len(node.data) if node.data is not None else 4096
        nlink = 2 + sum(1 for i in node.children.values()
                        if stat.S_ISDIR(self.nodes[i].mode)) if node.children is not None else 1
        sec = int(node.mtime)
        nsec = int((node.mtime - sec) * 1e9)
        return ATTR.pack(node.ino, size, (size + 511) // 512, sec, sec, sec, nsec, nsec, nsec,
                         node.mode, nlink, 0, 0, 0, 4096, 0)

    def entry(self, node):  # fuse_entry_out: valid times 0, so nothing is cached
        return struct.pack("<QQQQII", node.ino, 0, 0, 0, 0, 0) + self.attr(node)

    # -- one request ----------------------------------------------------------------------
    def handle(self, opcode, nodeid, body):
        """Returns (errno, payload) or None for requests that get no answer."""
        if opcode == FUSE_INIT:
            major, minor, readahead, _flags = struct.unpack_from("<IIII", body)
            if major != 7:
                return errno.EPROTO, b""
            out = struct.pack("<IIIIHHIIHHI", 7, 31, readahead, 0, 16, 12, 131072, 1, 0, 0, 0)
            return 0, out + bytes(64 - len(out))
        if opcode in NO_REPLY:
            return None
        if opcode == FUSE_DESTROY:
            return 0, b""
        with self.lock:
            node = self.nodes.get(nodeid)
            if node is None:
                return errno.ENOENT, b""
            return self._handle_locked(opcode, node, body)

    def _name(self, body):
        return body.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")

    def _handle_locked(self, opcode, node, body):
        if opcode == FUSE_LOOKUP:
            ino = node.children.get(self._name(body)) if node.children is not None else None
            return (errno.ENOENT, b"") if ino is None else (0, self.entry(self.nodes[ino]))
        if opcode == FUSE_GETATTR:
            return 0, struct.pack("<QII", 0, 0, 0) + self.attr(node)
        if opcode == FUSE_SETATTR:
            valid = struct.unpack_from("<I", body)[0]
            if valid & FATTR_SIZE and node.data is not None:
                size = struct.unpack_from("<Q", body, 16)[0]
                del node.data[size:]
                node.data.extend(bytes(size - len(node.data)))
            if valid & FATTR_MODE:
                mode = struct.unpack_from("<I", body, 68)[0]
                node.mode = stat.S_IFMT(node.mode) | (mode & 0o7777)
            node.mtime = time.time()
            return 0, struct.pack("<QII", 0, 0, 0) + self.attr(node)
        if opcode in (FUSE_MKDIR, FUSE_CREATE):
            if node.children is None:
                return errno.ENOTDIR, b""
            if opcode == FUSE_MKDIR:
                mode, umask = struct.unpack_from("<II", body)
                name = self._name(body[8:])
                kind = stat.S_IFDIR
            else:
                _flags, mode, umask, _open_flags = struct.unpack_from("<IIII", body)
                name = self._name(body[16:])
                kind = stat.S_IFREG
            if name in node.children:
                return errno.EEXIST, b""
            child = self._add(node, name, kind | (mode & ~umask & 0o7777))
            out = self.entry(child)
            if opcode == FUSE_CREATE:
                out += struct.pack("<QII", 0, 0, 0)
            return 0, out
        if opcode in (FUSE_UNLINK, FUSE_RMDIR):
            name = self._name(body)
            ino = node.children.get(name) if node.children is not None else None
            if ino is None:
                return errno.ENOENT, b""
            child = self.nodes[ino]
            if opcode == FUSE_RMDIR:
                if child.children is None:
                    return errno.ENOTDIR, b""
                if child.children:
                    return errno.ENOTEMPTY, b""
            elif child.children is not None:
                return errno.EISDIR, b""
            del node.children[name]
            node.mtime = time.time()
            return 0, b""
        if opcode in (FUSE_RENAME, FUSE_RENAME2):
            if opcode == FUSE_RENAME:
                newdir, flags, rest = struct.unpack_from("<Q", body)[0], 0, body[8:]
            else:
                newdir, flags = struct.unpack_from("<QI", body)
                rest = body[16:]
            old, new = (p.decode("utf-8", "surrogateescape") for p in rest.split(b"\0")[:2])
            target = self.nodes.get(newdir)
            if old not in node.children or target is None:
                return errno.ENOENT, b""
            if flags & ~RENAME_NOREPLACE:
                return errno.EINVAL, b""
            if new in target.children:
                if flags & RENAME_NOREPLACE:
                    return errno.EEXIST, b""
                existing = self.nodes[target.children[new]]
                if existing.children:
                    return errno.ENOTEMPTY, b""
            target.children[new] = node.children.pop(old)
            node.mtime = target.mtime = time.time()
            return 0, b""
        if opcode in (FUSE_OPEN, FUSE_OPENDIR):
            return 0, struct.pack("<QII", 0, 0, 0)
        if opcode == FUSE_READ:
            _fh, offset, size = struct.unpack_from("<QQI", body)
            return 0, bytes(node.data[offset:offset + size]) if node.data is not None else b""
        if opcode == FUSE_WRITE:
            _fh, offset, size = struct.unpack_from("<QQI", body)
            data = body[40:40 + size]
            if len(node.data) < offset:
                node.data.extend(bytes(offset - len(node.data)))
            node.data[offset:offset + len(data)] = data
            node.mtime = time.time()
            return 0, struct.pack("<II", len(data), 0)
        if opcode == FUSE_READDIR:
            if node.children is None:
                return errno.ENOTDIR, b""
            _fh, offset, size = struct.unpack_from("<QQI", body)
            out = bytearray()
            entries = list(node.children.items())
            for index in range(offset, len(entries)):
                name, ino = entries[index]
                raw = name.encode("utf-8", "surrogateescape")
                kind = stat.S_IFMT(self.nodes[ino].mode) >> 12
                record = struct.pack("<QQII", ino, index + 1, len(raw), kind) + raw
                record += bytes(-len(record) % 8)
                if len(out) + len(record) > size:
                    break
                out += record
            return 0, bytes(out)
        if opcode == FUSE_STATFS:
            return 0, struct.pack("<QQQQQIII", 1 << 20, 1 << 19, 1 << 19, 1 << 20, 1 << 19,
                                  4096, 255, 4096) + bytes(4 + 24)
        if opcode in (FUSE_RELEASE, FUSE_RELEASEDIR, FUSE_FLUSH, FUSE_FSYNC, FUSE_FSYNCDIR,
                      FUSE_ACCESS):
            return 0, b""
        return errno.ENOSYS, b""

    # -- the loop -------------------------------------------------------------------------
    def serve(self, fd):
        while not self.stopping.is_set():
            try:
                request = os.read(fd, (1 << 17) + 4096)
            except OSError as error:
                if error.errno in (errno.EINTR, errno.EAGAIN, errno.ENOENT):
                    continue  # ENOENT: the request was interrupted meanwhile
                return  # ENODEV: unmounted
            length, opcode, unique, nodeid = IN_HEADER.unpack_from(request)[:4]
            with self.lock:
                self.counts[opcode] = self.counts.get(opcode, 0) + 1
                if opcode == FUSE_READDIR:  # only ferryd's start-up sweep lists here
                    self.readdir_times[0] = self.readdir_times[0] or time.time()
                    self.readdir_times[1] = time.time()
            if opcode not in NOT_DELAYED:
                time.sleep(self.delay)
            try:
                result = self.handle(opcode, nodeid, request[IN_HEADER.size:length])
            except Exception as error:  # noqa: BLE001 - a bad request must not kill a thread
                print(f"slow_fs: opcode {opcode}: {error!r}", file=sys.stderr)
                result = (errno.EIO, b"")
            if result is None:
                continue
            code, payload = result
            if code:
                payload = b""
            try:
                os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), -code, unique)
                         + payload)
            except OSError:
                pass  # interrupted or aborted: the kernel no longer waits for it


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return lib


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo", encoding="utf-8") as mountinfo:
        return any(line.split()[4] == path for line in mountinfo)


def run_fuse(args):
    """`slow_fs.py fuse MOUNTPOINT`: mounts, prints `ready`, serves until SIGTERM/SIGINT or
    --max-seconds, then unmounts."""
    mountpoint = os.path.realpath(args.mountpoint)
    fs = SlowFs(mountpoint, args.delay_ms / 1000.0, args.dirs, args.files)
    fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    lib = libc()
    options = f"fd={fd},rootmode=40755,user_id=0,group_id=0,default_permissions,allow_other"
    if lib.mount(b"slowfs", mountpoint.encode(), b"fuse.slowfs", MS_NOSUID | MS_NODEV,
                 options.encode()) != 0:
        print(f"mount: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        return 1
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    threads = [threading.Thread(target=fs.serve, args=(fd,), daemon=True)
               for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    done.wait(args.max_seconds)
    fs.stopping.set()
    if lib.umount2(mountpoint.encode(), MNT_DETACH) != 0:
        print(f"umount: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    for thread in threads:
        thread.join(timeout=2 * fs.delay + 1)
    counts = {OPCODE_NAMES.get(k, str(k)): v for k, v in sorted(fs.counts.items())}
    print(json.dumps({"fuse_requests": counts, "readdir_first": fs.readdir_times[0],
                      "readdir_last": fs.readdir_times[1]}), flush=True)
    os.close(fd)  # aborts the connection if a reference to the mount still lives
    return 0


# ------------------------------------------------------------------------------------------
# Clients: raw sockets, one head at a time.

class Control:
    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def ask(self, head):
        self.sock.sendall(head.encode())
        return self.answer()

    def answer(self):
        while b"\n\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the control connection")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\n\n", 1)
        return head.decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.sendall(b"QUIT\n\n")
        except OSError:
            pass
        self.sock.close()


def get_small(control, name, expect):
    head = b"OK\nFILESIZE: %d\n\n" % len(expect)
    data = transfer(control, f"GET\nFILENAME: {name}\n\n".encode(), head)
    if data != head + expect:
        raise RuntimeError(f"GET {name}: {data[:200]!r}")


def transfer(control, head, expect_prefix):
    """OPEN 0, then one request on the transfer connection; returns what the server sent."""
    answer = control.ask("OPEN 0\n\n")
    if not answer.startswith("OPENED "):
        raise RuntimeError(f"OPEN: {answer}")
    with socket.create_connection(("127.0.0.1", int(answer.split()[1])), timeout=30.0) as conn:
        conn.sendall(head)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.startswith(expect_prefix):
        raise RuntimeError(f"{head[:40]!r}: {data[:200]!r}")
    return data


def run_load(args):
    """`slow_fs.py load`: N sessions on slow/sK, one request at a time, until --seconds."""
    deadline = time.monotonic() + args.seconds
    results = [None] * args.sessions

    def session(k):
        latencies, errors = [], 0
        control = Control(args.port)
        base = f"slow/s{k}"
        i = 0
        try:
            while time.monotonic() < deadline:
                d = f"{base}/{args.tag}d{i}"
                if args.kind == "get":  # an empty file of the slow tree, by a transfer
                    steps = [lambda: transfer(control, f"GET\nFILENAME: {base}/f"
                                              f"{args.first_file + i}\n\n".encode(), b"")]
                elif args.kind == "put":  # 2 bytes into the slow tree
                    steps = [lambda: transfer(control, f"PUT\nFILENAME: {d}.txt\nFILESIZE: 2"
                                              f"\n\nhi".encode(), b"")]
                else:
                    steps = [lambda h=head: control.ask(h) for head in (
                        f"MKDIR {d}\n\n", f"STAT {d}\n\n",
                        f"DELETE {base}/f{args.first_file + i}\n\n", f"RMDIR {d}\n\n")]
                for step in steps:
                    started = time.monotonic()
                    answer = step()
                    latencies.append(time.monotonic() - started)
                    if not answer.startswith(b"OK" if isinstance(answer, bytes) else "OK"):
                        errors += 1
                i += 1
        finally:
            control.close()
        results[k] = (latencies, errors)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(args.sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 60)
    latencies = sorted(x for r in results if r for x in r[0])
    print(json.dumps({"answers": len(latencies),
                      "errors": sum(r[1] for r in results if r),
                      "sessions_done": sum(1 for r in results if r),
                      "median_ms": 1000 * percentile(latencies, 50),
                      "max_ms": 1000 * (latencies[-1] if latencies else 0)}), flush=True)
    return 0


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))  # nearest rank
    return sorted_values[int(rank) - 1]


def measure_fast(port, mode, seconds, interval=0.010):
    """The fast session: STAT fast.txt (or a GET of it) every 10 ms, one at a time."""
    control = Control(port)
    latencies = []
    try:
        start = time.monotonic()
        next_at = start
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            started = time.monotonic()
            if mode == "stat":
                answer = control.ask("STAT fast.txt\n\n")
                if not answer.startswith("OK\nTYPE: f\nSIZE: 2\n"):
                    raise RuntimeError(f"STAT fast.txt: {answer}")
            elif mode == "get":
                get_small(control, "fast.txt", b"hi")
            elif mode == "ls":  # a fast directory: listing batches run on the disk pool
                transfer(control, b"LS fastdir\n\n", b"OK\n\nf 2 ")
            else:  # put: written on the worker (tmpfs), fsync + rename on the disk pool
                transfer(control, b"PUT\nFILENAME: fastdir/put.txt\nFILESIZE: 2\n\nhi",
                         b"OK\nFILESIZE: 2\n\n")
            finished = time.monotonic()
            latencies.append(finished - started)
            next_at = max(next_at + interval, finished)  # a late answer skips ticks
    finally:
        control.close()
    return latencies


# ------------------------------------------------------------------------------------------
# The bench.

def start_ferryd(ferryd, root, threads, log_path):
    log = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen([ferryd, "--bind", "127.0.0.1", "--threads", str(threads),
                                "--root", root, "0"],
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8") as text:
            found = re.search(r"listening on (?:\[[^\]]*\]|[^ :]+):(\d+)", text.read())
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"ferryd did not start: see {log_path}")


def stop(process, timeout=10):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def loadavg():
    with open("/proc/loadavg", encoding="utf-8") as text:
        return text.read().split()[0]


def ms(value):
    return f"{1000 * value:.1f}"


def run_bench(args):
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        print("needs root and /dev/fuse", file=sys.stderr)
        return 2
    slow_counts = [int(x) for x in args.slow.split(",")]
    modes = args.modes.split(",")
    rounds = len(slow_counts) * len(modes)
    bound = rounds * (args.duration + 20) + 60
    work = tempfile.mkdtemp(prefix="ferry-slowfs-", dir="/dev/shm")
    root = os.path.join(work, "root")
    mountpoint = os.path.join(root, "slow")
    os.makedirs(mountpoint)
    with open(os.path.join(root, "fast.txt"), "wb") as fast:
        fast.write(b"hi")
    os.makedirs(os.path.join(root, "fastdir"))
    with open(os.path.join(root, "fastdir", "a.txt"), "wb") as fast:
        fast.write(b"hi")
    fuse = ferryd = None
    rows = []
    fuse_counts = {}
    fuse_report = {}
    ferryd_started = None
    script = os.path.abspath(__file__)
    try:
        def start_fuse():
            process = subprocess.Popen(
                [sys.executable, "-B", script, "fuse", mountpoint, "--delay-ms",
                 str(args.delay_ms), "--dirs", str(max(slow_counts + [1])),
                 "--files", str(args.files), "--max-seconds", str(bound)],
                stdout=subprocess.PIPE, text=True)
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("the FUSE daemon did not start")
            started = time.monotonic()
            os.stat(os.path.join(mountpoint, "s0"))
            probe = time.monotonic() - started
            started = time.monotonic()
            os.stat(os.path.join(mountpoint, "s0", "f0"))
            probe2 = time.monotonic() - started
            print(f"slow file system: FUSE at {mountpoint}, {args.delay_ms} ms per request; "
                  f"stat slow/s0 took {ms(probe)} ms, stat slow/s0/f0 {ms(probe2)} ms "
                  f"(nothing cached)", flush=True)
            return process

        if args.mount == "before":
            fuse = start_fuse()
        ferryd_started = time.time()
        ferryd, port = start_ferryd(args.ferryd, root, args.threads,
                                    os.path.join(work, "ferryd.log"))
        print(f"ferryd pid {ferryd.pid} on 127.0.0.1:{port}, --threads {args.threads}, "
              f"root {root}", flush=True)
        if args.mount == "after":
            time.sleep(1.0)  # the start-up sweep of the (tiny, fast) root is over
            fuse = start_fuse()
        for round_index, (mode, n) in enumerate((m, n) for m in modes for n in slow_counts):
            load = None
            load_before = loadavg()
            if n:
                load = subprocess.Popen(
                    [sys.executable, "-B", script, "load", "--port", str(port), "--sessions",
                     str(n), "--seconds", str(args.duration + 1.5), "--tag", f"r{round_index}",
                     "--first-file", str(round_index * 25), "--kind", args.slow_kind],
                    stdout=subprocess.PIPE, text=True)
                time.sleep(1.0)  # the slow sessions reach their steady state
            latencies = sorted(measure_fast(port, mode, args.duration))
            slow = {}
            if load:
                out, _ = load.communicate(timeout=args.duration + 60)
                slow = json.loads(out.strip().splitlines()[-1])
            row = {"mode": mode, "slow_sessions": n, "samples": len(latencies),
                   "median_ms": 1000 * percentile(latencies, 50),
                   "p90_ms": 1000 * percentile(latencies, 90),
                   "p99_ms": 1000 * percentile(latencies, 99),
                   "max_ms": 1000 * latencies[-1],
                   "over_100ms": sum(1 for x in latencies if x > 0.1),
                   "slow": slow, "loadavg_before": load_before, "loadavg_after": loadavg()}
            rows.append(row)
            print(f"  {mode} N={n}: {len(latencies)} answers, median {row['median_ms']:.1f} ms, "
                  f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms; slow {slow}",
                  flush=True)
            time.sleep(1.0)
    finally:
        stop(ferryd)
        if fuse is not None:
            stop(fuse)
            try:
                tail = fuse.stdout.read().strip().splitlines()
                fuse_report = json.loads(tail[-1]) if tail else {}
                fuse_counts = fuse_report.get("fuse_requests", {})
            except (ValueError, KeyError, OSError):
                pass
        if is_mounted(mountpoint):
            libc().umount2(mountpoint.encode(), MNT_DETACH)
        still = is_mounted(mountpoint)
        if not still:
            log = os.path.join(work, "ferryd.log")
            if args.keep_log and os.path.exists(log):
                shutil.move(log, args.keep_log)
            subprocess.run(["rm", "-rf", "--one-file-system", work], check=False, timeout=60)
        print(f"cleanup: ferryd and the FUSE daemon stopped, mount "
              f"{'STILL PRESENT at ' + mountpoint if still else 'gone'}, "
              f"{work} {'kept' if still else 'removed'}", flush=True)

    print()
    print(f"slow sessions: {args.slow_kind}; "
          f"ferryd --threads {args.threads}, disk pool 4 threads; FUSE delay {args.delay_ms} ms "
          f"per request; fast session every 10 ms for {args.duration} s; latency in ms")
    print()
    print("| fast session | slow sessions | answers | median | p90 | p99 | max | >100 ms "
          "| slow answers | slow median | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        slow = row["slow"]
        label = {"stat": "STAT fast.txt", "get": "GET fast.txt", "ls": "LS fastdir",
                 "put": "PUT fastdir/put.txt"}[row["mode"]]
        print(f"| {label} "
              f"| {row['slow_sessions']} | {row['samples']} | {row['median_ms']:.1f} "
              f"| {row['p90_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} "
              f"| {row['over_100ms']} | {slow.get('answers', '-')} "
              f"| {('%.0f' % slow['median_ms']) if slow else '-'} "
              f"| {row['loadavg_before']} → {row['loadavg_after']} |")
    print()
    print(f"FUSE requests served: {fuse_counts}")
    slow_answers = sum(row["slow"].get("answers", 0) for row in rows)
    if slow_answers:
        delayed = sum(v for k, v in fuse_counts.items()
                      if k not in ("INIT", "FORGET", "BATCH_FORGET", "INTERRUPT", "DESTROY"))
        print(f"delayed FUSE requests per slow-session answer: {delayed / slow_answers:.1f} "
              f"(all delayed requests, the sweep's and the probes' included)")
    first, last = fuse_report.get("readdir_first"), fuse_report.get("readdir_last")
    if first and ferryd_started:
        print(f"directory listings on the slow tree (only ferryd's start-up sweep lists): "
              f"{fuse_counts.get('READDIR', 0)} READDIR, from {first - ferryd_started:.1f} s "
              f"to {last - ferryd_started:.1f} s after ferryd started")
    elif ferryd_started:
        print("no directory was read on the slow tree (the start-up sweep did not reach it)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"delay_ms": args.delay_ms, "threads": args.threads,
                       "duration_s": args.duration, "mount": args.mount, "rows": rows,
                       "fuse": fuse_report},
                      out, indent=1)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    bench = parser  # the default command
    bench.add_argument("--ferryd", default="build-slow/ferryd")
    bench.add_argument("--slow", default="0,1,3,4,8", help="slow session counts (0: baseline)")
    bench.add_argument("--modes", default="stat,get",
                       help="what the fast session does: stat, get, and also ls (of fastdir) "
                       "and put (2 bytes into fastdir)")
    bench.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    bench.add_argument("--delay-ms", type=float, default=200.0, help="FUSE delay per request")
    bench.add_argument("--threads", type=int, default=1, help="ferryd --threads")
    bench.add_argument("--slow-kind", choices=("manage", "get", "put"), default="manage",
                       help="what the slow sessions do: MKDIR/STAT/DELETE/RMDIR on the control "
                       "connection, or GETs of its empty files, or 2-byte PUTs into it")
    bench.add_argument("--mount", choices=("after", "before"), default="after",
                       help="mount the slow tree after ferryd's start-up sweep (the pool "
                       "has its 4 threads) or before (the sweep walks the slow tree too)")
    bench.add_argument("--files", type=int, default=300,
                       help="files made in each slow/sK (DELETE's targets)")
    bench.add_argument("--json", help="also write the results here")
    bench.add_argument("--keep-log", help="move ferryd's log here at the end")
    fuse = sub.add_parser("fuse", help="serve the slow file system at MOUNTPOINT")
    fuse.add_argument("mountpoint")
    fuse.add_argument("--delay-ms", type=float, default=200.0)
    fuse.add_argument("--dirs", type=int, default=8)
    fuse.add_argument("--files", type=int, default=1000)
    fuse.add_argument("--threads", type=int, default=64, help="requests answered at once")
    fuse.add_argument("--max-seconds", type=float, default=600.0)
    load = sub.add_parser("load", help="slow sessions (used by the bench)")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--sessions", type=int, required=True)
    load.add_argument("--seconds", type=float, required=True)
    load.add_argument("--tag", default="x")
    load.add_argument("--first-file", type=int, default=0)
    load.add_argument("--kind", choices=("manage", "get", "put"), default="manage")
    args = parser.parse_args()
    if args.command == "fuse":
        return run_fuse(args)
    if args.command == "load":
        return run_load(args)
    return run_bench(args)


if __name__ == "__main__":
    sys.exit(main())
