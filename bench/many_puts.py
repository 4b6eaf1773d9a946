#!/usr/bin/env python3
"""Many concurrent PUTs into an unprivileged ferryd, measured (issue 8: one splice pipe per
worker instead of one per PUT). Run by hand against any ferryd build:

    /usr/bin/python3 -B bench/many_puts.py --ferryd build/ferryd
    /usr/bin/python3 -B bench/many_puts.py --ferryd /tmp/ferry-before/build/ferryd

ferryd runs as uid 65534 (setpriv), serving a folder on tmpfs (/dev/shm, so that no disk
is measured). An unprivileged user may hold pipes of fs.pipe-user-pages-soft pages in all
(16,384 pages: 64 pipes of 1 MiB); past it, the kernel refuses to grow a pipe and every new
one is 8 KiB. --puts clients (80) each send a --size (32 MiB) PUT at once, over their own
control and transfer connections, the first MiB of each before the rest of any; while they run, ferryd's pipes are counted and sized
through /proc/PID/fd. Prints, per round: the wall time of all, the aggregate rate, the
median and slowest PUT, ferryd's CPU time (user + system, /proc/PID/stat) per GiB stored,
and ferryd's pipes (how many, how many under 1 MiB). Every file
stored is checked for its size. Needs root (setpriv, /proc of another user). Every server
binds to 127.0.0.1; every wait has a timeout. Standard library only.
"""

import argparse
import fcntl
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LOOPBACK = "127.0.0.1"
MIB = 1 << 20
F_GETPIPE_SZ = 1032
LISTEN_RE = re.compile(r"listening on \S+:(\d+)")
NOBODY = 65534


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferryd", required=True)
    parser.add_argument("--puts", type=int, default=80)
    parser.add_argument("--size", type=int, default=32 * MIB)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="ferryd --threads")
    parser.add_argument("--dir", default="/dev/shm", help="where the served folder is made")
    return parser.parse_args()


def start_ferryd(args, root):
    command = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
               args.ferryd, "0", "--root", root, "--bind", LOOPBACK,
               "--threads", str(args.threads), "--max-transfers-per-ip", "1000",
               "--max-sessions-per-ip", "1000"]
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        match = LISTEN_RE.search(line)
        if match:
            threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
            return server, int(match.group(1))
    server.kill()
    raise SystemExit("ferryd did not start")


def read_head(sock):
    data = b""
    while b"\n\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def one_put(port, name, payload, start, underway, results, index):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=60) as control:
            control.sendall(b"OPEN 0\n\n")
            opened = read_head(control)
            transfer_port = int(re.match(rb"OPENED (\d+)", opened).group(1))
            with socket.create_connection((LOOPBACK, transfer_port), timeout=60) as data:
                start.wait(30)
                began = time.monotonic()
                data.sendall(b"PUT\nFILENAME: %s\nFILESIZE: %d\n\n" % (name.encode(), len(payload)))
                # All PUTs under way at once before the bulk of the data: each has had its
                # first MiB received, so a ferryd that makes a pipe per PUT holds them all.
                data.sendall(payload[:MIB])
                underway.wait(60)
                data.sendall(payload[MIB:])
                answer = read_head(data)
                results[index] = (time.monotonic() - began, answer.startswith(b"OK") or answer)
            control.sendall(b"QUIT\n\n")
    except OSError as error:
        results[index] = (None, f"{error}")


def ferryd_pipes(pid):
    """{inode: size} of the pipes ferryd holds now."""
    sizes = {}
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        if int(fd) <= 2:
            continue  # our pipe of its stderr
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
            if not target.startswith("pipe:") or target in sizes:
                continue
            handle = os.open(f"{fd_dir}/{fd}", os.O_RDONLY | os.O_NONBLOCK)
            try:
                sizes[target] = fcntl.fcntl(handle, F_GETPIPE_SZ)
            finally:
                os.close(handle)
        except OSError:
            continue
    return sizes


def cpu_seconds(pid):
    """User + system time of ferryd, all its threads (the disk pool's too)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_of_puts(args, port, pid, root, payload, number):
    start = threading.Barrier(args.puts + 1)
    underway = threading.Barrier(args.puts)
    results = [None] * args.puts
    threads = [threading.Thread(target=one_put,
                                args=(port, f"r{number}-{i}.bin", payload, start, underway, results, i))
               for i in range(args.puts)]
    for thread in threads:
        thread.start()
    start.wait(30)
    began = time.monotonic()
    cpu_before = cpu_seconds(pid)
    most_pipes = {}
    while any(thread.is_alive() for thread in threads) and time.monotonic() - began < 120:
        pipes = ferryd_pipes(pid)
        if len(pipes) > len(most_pipes):
            most_pipes = pipes
        time.sleep(0.05)
    for thread in threads:
        thread.join(5)
    wall = time.monotonic() - began
    cpu = cpu_seconds(pid) - cpu_before
    ok = [i for i in range(args.puts) if results[i] and results[i][1] is True]
    times = [results[i][0] for i in ok]
    failures = [results[i] for i in range(args.puts) if i not in ok]
    for i in range(args.puts):
        path = os.path.join(root, f"r{number}-{i}.bin")
        stored = os.path.getsize(path) if os.path.exists(path) else None
        if i in ok and stored != len(payload):
            failures.append(f"r{number}-{i}.bin answered OK but holds {stored} bytes")
        if stored is not None:
            os.unlink(path)
    for failure in failures[:3]:
        print(f"failed: {failure}", file=sys.stderr)
    failed = len(failures)
    small = sum(1 for size in most_pipes.values() if size < MIB)
    return {
        "wall_s": wall,
        "rate_mib_s": args.puts * len(payload) / MIB / wall,
        "median_s": statistics.median(times) if times else float("nan"),
        "slowest_s": max(times) if times else float("nan"),
        "failed": failed,
        "cpu_s_per_gib": cpu / (args.puts * len(payload) / (1 << 30)),
        "pipes": len(most_pipes),
        "small_pipes": small,
    }


def main():
    args = parse_arguments()
    root = tempfile.mkdtemp(prefix="ferry-many-puts-", dir=args.dir)
    os.chown(root, NOBODY, NOBODY)
    payload = os.urandom(MIB) * (args.size // MIB)
    server, port = start_ferryd(args, root)
    try:
        print(f"| round | PUTs | wall s | MiB/s | median s | slowest s | failed | "
              f"ferryd CPU s/GiB | ferryd pipes (most at once) | of them < 1 MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for number in range(args.rounds):
            r = round_of_puts(args, port, server.pid, root, payload, number)
            print(f"| {number + 1} | {args.puts} | {r['wall_s']:.2f} | {r['rate_mib_s']:.0f} | "
                  f"{r['median_s']:.2f} | {r['slowest_s']:.2f} | {r['failed']} | "
                  f"{r['cpu_s_per_gib']:.2f} | "
                  f"{r['pipes']} | {r['small_pipes']} |", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
