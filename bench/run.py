#!/usr/bin/env python3
"""ferry benchmark (issue 3, section 1): ferry side by side with iperf3, vsftpd and pyftpdlib.

Everything runs on 127.0.0.1; files are served from a tmpfs folder under /dev/shm that this
script creates and removes. Every server (ferryd, vsftpd, pyftpdlib, iperf3) is started here
with its own configuration and stopped by its PID. Within each repeat the systems are
interleaved (the order rotates from repeat to repeat); the table reports the median with the
min and max beside it.

    bench/run.py                 full run (1 GiB files, 7 repeats; slow rows fewer)
    bench/run.py --quick         smoke run: tiny sizes, one repeat, about 10 s
    bench/run.py --repeats N     every row N times

The large-file rows also give each server's CPU time per GiB moved (rows cpu_get and cpu_put:
user + system time of the server process, its threads and the processes it forked, from /proc;
the client's from wait4 beside it; `--only cpu` runs just the large-file transfers for them).
CPU per byte is what carries over to a real network card, unlike loopback throughput; but on
loopback the kernel's receive-side work lands on either end, so read the server's figure with
the client's (the notes of the report say more). The movers row group (`--only movers`) runs
ferry-mover-compare (bench/mover_compare.cpp): sendfile, splice and read/write side by side,
throughput and the sender's and receiver's CPU; `make bench` builds it beside ferry-load.
The TLS rows (`--only tls`, bench/tls_peers.py; in a full run, not in --quick) put ferry beside
vsftpd over explicit FTPS (lftp, curl) and OpenSSH's sftp, each with keys made for the run.

The 500-client row measures ferryd with ferry-load (bench/ferry_load.cpp, a one-thread C++
client that `make bench` builds) when it is built, and with the Python asyncio client below
otherwise; the FTP peers are always measured with the Python client (and ferryd with it too,
as "ferry+raw", for reference).

Standard library only. The peers are optional: a missing one is skipped and the output says
so. Exit status 1 when any ferry transfer failed (or the table came out malformed).
"""
import argparse
import asyncio
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import tls_peers   # the TLS rows (issue 9): bench/tls_peers.py, beside this file

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
KiB, MiB, GiB = 1024, 1024 ** 2, 1024 ** 3
DEBIAN_PY = "/usr/bin/python3"

# ----------------------------------------------------------------------------------------
# Configuration

FULL = dict(big=GiB, small_n=2000, small_size=4 * KiB, conc_clients=50, conc_gets=20,
            mid=4 * MiB, lat_clients=500, lat_gets=10, idle_steps=[1, 1000, 10000],
            vs_idle=100, py_idle=1000,
            repeats=dict(large=7, small=7, conc=5, lat=5, idle=3, movers=5, tls=3),
            timeouts=dict(large=120, small=300, conc=300, lat=180, movers=600, tls=120),
            tls_small_budget=10)
QUICK = dict(big=8 * MiB, small_n=50, small_size=4 * KiB, conc_clients=4, conc_gets=3,
             mid=256 * KiB, lat_clients=20, lat_gets=3, idle_steps=[1, 50, 200],
             vs_idle=10, py_idle=20,
             repeats=dict(large=1, small=1, conc=1, lat=1, idle=1, movers=1, tls=1),
             timeouts=dict(large=30, small=30, conc=30, lat=30, movers=60, tls=30),
             tls_small_budget=5)

FTP_PEERS = ["vsftpd+curl", "vsftpd+lftp", "pyftpdlib+curl", "pyftpdlib+lftp"]

TARGETS = {
    "get_vs_iperf": (1.0, ">="), "get_vs_peer": (1.3, ">="),
    "put_vs_iperf": (0.8, ">="), "put_vs_peer": (1.3, ">="),
    "small_vs_peer": (2.0, ">="), "conc_vs_peer": (1.5, ">="),
    "lat_p99_ms": (50.0, "<"), "idle_kib": (2.0, "<="),
    "peak_rss_mib": (8.0, "<="),
}


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def free_port_range(width, lo=20000, hi=32000):
    """A range of `width` ports below the ephemeral range where nothing listens now."""
    for base in range(lo, hi - width + 1, width):
        busy = False
        for p in (base, base + width // 2, base + width - 1):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
                try:
                    s.bind((HOST, p))
                except OSError:
                    busy = True
                    break
        if not busy:
            return base, base + width - 1
    raise RuntimeError("no free passive port range")


# ----------------------------------------------------------------------------------------
# Processes: every one we start is recorded and stopped by its PID.

class Procs:
    def __init__(self):
        self.live = []

    def start(self, cmd, log_path, **kw):
        f = open(log_path, "ab")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                             preexec_fn=raise_fd_limit, **kw)
        f.close()
        self.live.append(p)
        return p

    def stop(self, p, children=()):
        for pid in [p.pid, *children]:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log("pid %d ignored SIGTERM for 10 s: SIGKILL" % p.pid)
            p.kill()
            p.wait(timeout=10)
        for pid in children:  # stragglers (vsftpd session processes) by PID, bounded
            for _ in range(50):
                reap_if_adopted(pid)
                if not Path("/proc/%d" % pid).exists():
                    break
                time.sleep(0.02)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self):
        for p in list(self.live):
            self.stop(p, descendants(p.pid))


PROCS = Procs()


def rst_close(s):
    """Close with RST: no TIME_WAIT left in the (shared, loopback) port space."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    s.close()


IDLE_IPS = 20
_idle_next = {}


def idle_client(i, port):
    """Control connection i of the idle-session row, from 127.0.0.(2 + i % 20) and an
    explicit source port from 2000 up: a shared machine's ephemeral range can be too full of
    TIME_WAIT sockets to give one process 10,000 connections."""
    ip = "127.0.0.%d" % (2 + i % IDLE_IPS)
    for _ in range(2000):
        lport = _idle_next.get(ip, 2000)
        _idle_next[ip] = lport + 1 if lport < 9999 else 2000
        s = socket.socket()
        s.settimeout(10)
        try:
            s.bind((ip, lport))
            s.connect((HOST, port))
            return s
        except OSError:
            s.close()
    raise OSError("no free source port on " + ip)


def time_wait_count():
    n = 0
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                n += sum(1 for line in fh if line.split()[3] == "06")
        except OSError:
            pass
    return n


def descendants(pid):
    """PIDs of all descendants of pid (from /proc/*/stat)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = Path("/proc/%s/stat" % d).read_text()
            except OSError:
                continue
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            parent.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in parent.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


# ----------------------------------------------------------------------------------------
# Server CPU time (issue 8, section 4)
#
# A server's CPU time over one transfer = user + system time of the server process, its
# threads and every process it forked for the session, before and after. Why this way:
# - /proc/PID/stat utime + stime (fields 14, 15) of a process already sum all of its threads,
#   the exited ones included, so ferryd, pyftpdlib and iperf3 (no children) need nothing
#   more. Reading /proc/PID/task/*/stat instead would lose threads that exit in between.
# - cutime + cstime (fields 16, 17) add the children that the process has *waited for*, each
#   with its own waited-for children. vsftpd forks a privileged process per session, which
#   forks the unprivileged one that moves the data; when the session ends the privileged
#   one often exits without waiting, its child is re-parented to PID 1 and its time is
#   lost: measured here, the listener's cutime + cstime missed a 1 GiB GET's 0.06–0.18 s in
#   3 of 4 sessions (in the bench runs about half of vsftpd's sessions end so). Sampling the children's /proc files until they exit would lose the last
#   interval and costs the transfer (a /proc scan every few ms). So during a measured
#   transfer this script makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER): an
#   orphan then becomes our child instead of PID 1's, and wait4() gives its exact rusage
#   (threads and waited-for children included) when it exits.
# - The figure is read only when the server is quiet again: every process forked for the
#   session has exited and been reaped (bounded, 5 s), so no time is counted twice (a child
#   read while alive, then again in its parent's cutime) or missed.
# Resolution: /proc/PID/stat is in clock ticks (1/100 s): ±0.01 s on a server's figure for a
# transfer; wait4's rusage is exact to the microsecond. Softirq work is charged to the task
# it interrupts (this kernel has no IRQ_TIME_ACCOUNTING): on loopback the receiving side's
# TCP processing runs on the sender's stack, or on the receiver's when it holds the socket,
# so it is in one end's figure or the other's, depending on the client; ksoftirqd's share is
# in nobody's. No disk writeback is missed: the files are on tmpfs.

CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_CHILD_SUBREAPER = 36


def set_subreaper(on):
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def proc_stat(pid):
    """(comm, state, ppid, utime + stime + cutime + cstime in seconds) from /proc/PID/stat."""
    st = Path("/proc/%d/stat" % pid).read_text()
    f = st[st.rindex(")") + 2:].split()
    return (st[st.index("(") + 1:st.rindex(")")], f[0], int(f[1]),
            sum(int(x) for x in f[11:15]) / CLK_TCK)


def reap_if_adopted(pid):
    """Reaps pid when it is an exited child of this process (an orphan we adopted as
    subreaper); returns its CPU seconds (user + system, its waited-for children included),
    or None when it is not such a child."""
    try:
        got, _, ru = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return ru.ru_utime + ru.ru_stime if got == pid else None


class CpuMeter:
    """CPU seconds of one server (pid) and what it forks, over the code between start() and
    stop(); see above."""

    def __init__(self, pid):
        self.pid = pid
        self.comm = proc_stat(pid)[0]
        self.base = set()

    def _adopted(self):
        """(pid, exited) of the processes re-parented to us from this server: our children
        with the server's name that are not servers we started."""
        mine, ours = os.getpid(), {p.pid for p in PROCS.live}
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) not in ours:
                try:
                    comm, state, ppid, _ = proc_stat(int(d))
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == mine and comm == self.comm:
                    out.append((int(d), state in "ZX"))
        return out

    def _settle(self):
        """Waits (5 s at most) until nothing forked for a session is left: True if so."""
        end = time.monotonic() + 5
        while True:
            busy = [p for p in descendants(self.pid) if p not in self.base] + \
                [p for p, exited in self._adopted() if not exited]
            if not busy or time.monotonic() > end:
                return not busy
            time.sleep(0.01)

    def _total(self):
        t = 0.0
        for p in [self.pid, *descendants(self.pid)]:
            try:
                t += proc_stat(p)[3]
            except (OSError, ValueError, IndexError):
                pass
        return t

    def _reap(self):
        t, n = 0.0, 0
        for p, exited in self._adopted():
            if exited:
                c = reap_if_adopted(p)
                if c is not None:
                    t, n = t + c, n + 1
        return t, n

    def start(self):
        self.subreaper = set_subreaper(True)
        self.base = set(descendants(self.pid))
        self.settled = self._settle()
        self._reap()              # orphans of earlier sessions are not this transfer's
        self.before = self._total()

    def stop(self):
        """CPU seconds since start(), and details for the JSON."""
        try:
            settled = self._settle() and self.settled
            adopted, n = self._reap()
            total = self._total() + adopted - self.before
        finally:
            set_subreaper(False)
        return total, {"cpu_s": round(total, 4), "settled": settled, "adopted": n,
                       "adopted_cpu_s": round(adopted, 4), "subreaper": self.subreaper}


def mem_kib(pid):
    """(RSS, PSS, peak RSS) of one process in KiB."""
    rss = hwm = pss = 0
    try:
        for line in Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        for line in Path("/proc/%d/smaps_rollup" % pid).read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss, hwm


def vm_hwm(pid):
    try:
        for line in Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def timed(cmds, timeout, stdin_paths=None, cwd=None, keep=2000, sample_rss=False,
          client_cpu=None):
    """Start every command at once, wait for all. Returns (wall seconds, [(rc, peak RSS KiB,
    output)]). A command still running at the timeout is killed (rc -9). With a list as
    client_cpu, each command's CPU seconds (user + system, from wait4) are appended to it.

    With sample_rss, the peak RSS is the child's VmHWM sampled from /proc every 5 ms while it
    runs (wait4's ru_maxrss is useless here: it carries the RSS of this Python process over
    the fork and exec); else 0. Runs that are timed for throughput do not sample: the sampler
    waking every 5 ms made a 1 GiB GET of ferry's 40 % slower (median of 8, 0.29 s against
    0.20 s), so the peaks are measured in runs of their own."""
    procs, outs = [], []
    t0 = time.perf_counter()
    for i, cmd in enumerate(cmds):
        fin = open(stdin_paths[i], "rb") if stdin_paths else subprocess.DEVNULL
        out = tempfile.TemporaryFile()
        procs.append(subprocess.Popen(cmd, stdin=fin, stdout=out, stderr=subprocess.STDOUT,
                                      cwd=cwd))
        outs.append(out)
        if stdin_paths:
            fin.close()
    deadline = t0 + timeout

    def killer():
        for p in procs:
            if p.returncode is None:
                try:
                    p.kill()
                except ProcessLookupError:
                    pass
    timer = threading.Timer(timeout, killer)
    timer.start()
    hwm = [0] * len(procs)
    done = threading.Event()

    def sampler():
        while not done.is_set():
            for i, p in enumerate(procs):
                if p.returncode is None:
                    hwm[i] = max(hwm[i], vm_hwm(p.pid))
            done.wait(0.005)
    th = threading.Thread(target=sampler, daemon=True)
    if sample_rss:
        th.start()
    results = []
    try:
        for p in procs:
            # waitid(WNOWAIT) first: the sampler may read /proc/PID until the child is reaped
            os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
            hwm_i = procs.index(p)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            if client_cpu is not None:
                client_cpu.append(ru.ru_utime + ru.ru_stime)
            results.append([p.returncode, hwm[hwm_i]])
        wall = time.perf_counter() - t0
    finally:
        timer.cancel()
        done.set()
        if sample_rss:
            th.join()
    for r, out in zip(results, outs):
        out.seek(0)
        r.append(out.read()[-keep:].decode(errors="replace"))
        out.close()
    if time.perf_counter() > deadline:
        for r in results:
            r[2] += " [killed at the %d s timeout]" % timeout
    return wall, results


# ----------------------------------------------------------------------------------------
# Servers

def wait_for(pred, what, secs=15):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


def ftp_greets(port):
    try:
        with socket.create_connection((HOST, port), timeout=1) as s:
            return s.recv(100).startswith(b"220")
    except OSError:
        return False


class Server:
    def __init__(self, name, proc, port, logf):
        self.name, self.proc, self.port, self.logf = name, proc, port, logf

    def stop(self):
        PROCS.stop(self.proc, descendants(self.proc.pid))


def start_ferryd(ferryd, root, work, max_sessions=1000, extra_args=(), env=None):
    """extra_args go before the port (the TLS rows, bench/tls_peers.py: e.g. --state-dir)."""
    logf = work / ("ferryd-%d.log" % time.monotonic_ns())
    # Like the FTP servers' passive ranges: transfer ports outside the ephemeral range, so
    # that their TIME_WAITs do not take the ports that the clients' connect() needs.
    dmin, dmax = free_port_range(10000, 10000, 20000)
    if "--state-dir" not in extra_args:  # its TLS identity in the run's folder, not in $HOME
        extra_args = [*extra_args, "--state-dir", str(work / "ferryd-state")]
    p = PROCS.start([ferryd, "--root", str(root), "--bind", HOST, "--log-level", "warn", "--data-ports",
                     "%d-%d" % (dmin, dmax), "--max-sessions", str(max_sessions), *extra_args, "0"],
                    logf, env=env)

    def port():
        m = re.search(r"listening on \S+:(\d+)", logf.read_text(errors="replace"))
        if p.poll() is not None:
            raise RuntimeError("ferryd exited: " + logf.read_text(errors="replace"))
        return int(m.group(1)) if m else None
    return Server("ferryd", p, wait_for(port, "ferryd's listening line"), logf)


def start_vsftpd(root, work, extra=(), name="vsftpd"):
    """extra: more vsftpd.conf lines (the FTPS rows, bench/tls_peers.py: ssl_enable=YES...);
    name: of the configuration and log files in work."""
    port = free_port()
    pmin, pmax = free_port_range(5000, 20000, 26000)
    empty = work / "vsftpd-empty"
    empty.mkdir(exist_ok=True)
    conf = work / (name + ".conf")
    conf.write_text("\n".join([
        "listen=YES", "listen_ipv6=NO", "listen_address=" + HOST, "listen_port=%d" % port,
        "background=NO", "seccomp_sandbox=NO", "isolate=NO", "isolate_network=NO",
        "anonymous_enable=YES", "no_anon_password=YES", "anon_root=" + str(root),
        "local_enable=NO", "write_enable=YES", "anon_upload_enable=YES",
        "anon_other_write_enable=YES", "anon_umask=022", "ftp_username=ftp",
        "pasv_enable=YES", "pasv_address=" + HOST,
        "pasv_min_port=%d" % pmin, "pasv_max_port=%d" % pmax, "connect_from_port_20=NO",
        "max_clients=0", "max_per_ip=0", "xferlog_enable=NO", "dual_log_enable=NO",
        "syslog_enable=NO", "secure_chroot_dir=" + str(empty), "use_sendfile=YES", *extra, ""]))
    logf = work / (name + ".log")
    p = PROCS.start([vsftpd_bin(), str(conf)], logf)
    try:
        wait_for(lambda: p.poll() is not None or ftp_greets(port), "vsftpd's greeting")
    finally:
        if p.poll() is not None:
            raise RuntimeError("vsftpd exited: " + logf.read_text(errors="replace"))
    return Server("vsftpd", p, port, logf)


def start_pyftpdlib(root, work):
    port = free_port()
    pmin, pmax = free_port_range(5000, 26000, 32000)
    logf = work / "pyftpdlib.log"
    p = PROCS.start([DEBIAN_PY, str(REPO / "bench" / "pyftpd_serve.py"), str(port), str(root),
                     str(pmin), str(pmax)], logf)
    wait_for(lambda: p.poll() is not None or ftp_greets(port), "pyftpdlib's greeting")
    if p.poll() is not None:
        raise RuntimeError("pyftpdlib exited: " + logf.read_text(errors="replace"))
    return Server("pyftpdlib", p, port, logf)


def start_iperf3(work):
    port = free_port()
    logf = work / "iperf3.log"
    p = PROCS.start(["iperf3", "-s", "-B", HOST, "-p", str(port), "--forceflush"], logf)
    wait_for(lambda: p.poll() is not None or "listening" in logf.read_text(errors="replace"),
             "iperf3 -s")
    if p.poll() is not None:
        raise RuntimeError("iperf3 exited: " + logf.read_text(errors="replace"))
    return Server("iperf3", p, port, logf)


def vsftpd_bin():
    return shutil.which("vsftpd") or ("/usr/sbin/vsftpd" if os.access("/usr/sbin/vsftpd", os.X_OK)
                                      else None)


def have_pyftpdlib():
    if not os.access(DEBIAN_PY, os.X_OK):
        return False
    return subprocess.run([DEBIAN_PY, "-c", "import pyftpdlib"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def deb_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "not installed"


# ----------------------------------------------------------------------------------------
# Clients

LFTP_SET = ("set cmd:fail-exit yes; set xfer:clobber on; set net:max-retries 1; "
            "set net:timeout 20; set ftp:passive-mode on; set ftp:ssl-allow no; ")


def lftp_script(path, port, lines):
    path.write_text(LFTP_SET.replace("; ", "\n") + "open ftp://%s:%d\n" % (HOST, port)
                    + "\n".join(lines) + "\nbye\n")
    return ["lftp", "-f", str(path)]


def curl_config(path, port, pairs):
    """pairs: (remote, local) for downloads. One curl process reuses one connection."""
    path.write_text("".join('url = "ftp://%s:%d/%s"\noutput = "%s"\n' % (HOST, port, r, l)
                            for r, l in pairs))
    return ["curl", "-sS", "--fail", "-K", str(path)]


# ----------------------------------------------------------------------------------------
# Raw asyncio clients for the 500-client latency row: the FTP peers' client, and ferry's when
# ferry-load (bench/ferry_load.cpp) is not built. This client saturates at a few thousand
# requests per second on 2 cores, so its latencies are mostly its own queueing.

async def read_head(reader):
    return await reader.readuntil(b"\n\n")


async def ferry_session(port, names, size, start, ready, lat, setup):
    async with setup:
        r, w = await asyncio.open_connection(HOST, port)
    ready.append(1)
    await start.wait()
    for name in names:
        t0 = time.perf_counter()
        w.write(b"OPEN 0\n\n")
        head = await read_head(r)
        if not head.startswith(b"OPENED "):
            raise RuntimeError("OPEN answered %r" % head)
        dr, dw = await asyncio.open_connection(HOST, int(head.split()[1]))
        dw.write(b"GET\nFILENAME: " + name.encode() + b"\n\n")
        h = await read_head(dr)
        m = re.match(rb"OK\nFILESIZE: ?(\d+)\n\n", h, re.I)
        if not m:
            raise RuntimeError("GET answered %r" % h)
        body = await dr.read()
        dw.close()
        if len(body) != int(m.group(1)) or len(body) != size:
            raise RuntimeError("GET %s: %d bytes, announced %s" % (name, len(body), m.group(1)))
        lat.append(time.perf_counter() - t0)
    w.write(b"QUIT\n\n")
    await r.read()
    w.close()


async def ftp_reply(r):
    line = await r.readline()
    if len(line) < 4:
        raise RuntimeError("FTP connection closed (%r)" % line)
    code = line[:3]
    if line[3:4] == b"-":
        while True:
            more = await r.readline()
            if not more:
                raise RuntimeError("FTP connection closed in a reply")
            if more[:3] == code and more[3:4] == b" ":
                break
    return int(code), line


async def ftp_cmd(r, w, cmd, ok):
    w.write(cmd + b"\r\n")
    code, line = await ftp_reply(r)
    if code not in ok:
        raise RuntimeError("%s -> %r" % (cmd[:4], line))
    return line


async def ftp_login(port):
    r, w = await asyncio.open_connection(HOST, port)
    code, line = await ftp_reply(r)
    if code != 220:
        raise RuntimeError("greeting %r" % line)
    if (await ftp_cmd(r, w, b"USER anonymous", (230, 331)))[:3] == b"331":
        await ftp_cmd(r, w, b"PASS bench@", (230,))
    await ftp_cmd(r, w, b"TYPE I", (200,))
    return r, w


async def ftp_session(port, names, size, start, ready, lat, setup):
    async with setup:   # vsftpd listens with a backlog of 32: log in a few at a time
        r, w = await asyncio.wait_for(ftp_login(port), 30)
    ready.append(1)
    await start.wait()
    for name in names:
        t0 = time.perf_counter()
        line = await ftp_cmd(r, w, b"PASV", (227,))
        m = re.search(rb"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", line)
        dr, dw = await asyncio.open_connection(HOST, int(m.group(5)) * 256 + int(m.group(6)))
        await ftp_cmd(r, w, b"RETR " + name.encode(), (125, 150))
        body = await dr.read()
        dw.close()
        code, l2 = await ftp_reply(r)
        if code != 226 or len(body) != size:
            raise RuntimeError("RETR %s: %r, %d bytes" % (name, l2, len(body)))
        lat.append(time.perf_counter() - t0)
    w.write(b"QUIT\r\n")
    w.close()


async def latency_run(kind, port, clients, gets, names, size, timeout):
    start, ready, lat, setup = asyncio.Event(), [], [], asyncio.Semaphore(16)
    fn = ferry_session if kind == "ferry" else ftp_session
    tasks = [asyncio.ensure_future(fn(port, [names[(i * gets + j) % len(names)]
                                             for j in range(gets)], size, start, ready, lat,
                                          setup))
             for i in range(clients)]
    end = time.monotonic() + timeout
    while len(ready) + sum(t.done() for t in tasks) < clients and time.monotonic() < end:
        await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    start.set()
    done, pending = await asyncio.wait(tasks, timeout=max(1.0, end - time.monotonic()))
    wall = time.perf_counter() - t0
    for t in pending:
        t.cancel()
    errors = [repr(t.exception()) for t in done if t.exception()]
    if pending:
        errors.append("%d clients still running at the timeout" % len(pending))
    return wall, lat, errors


def pct(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


# ----------------------------------------------------------------------------------------
# The bench

def selected(args, key):
    """Whether row group `key` runs: every group without --only. The CPU rows are measured on
    the large-file transfers, so `--only cpu` runs those (and reports their throughput). The
    TLS rows (bench/tls_peers.py) run in a full run or with `--only tls`, never in --quick
    without it (so not in `make test`'s smoke run)."""
    if key == "tls":
        return "tls" in (args.only or []) or (not args.only and not args.quick)
    if not args.only:
        return True
    return key in args.only or (key == "large" and "cpu" in args.only) or \
        (key == "cpu" and "large" in args.only)


class Bench:
    def __init__(self, args, cfg):
        self.args, self.cfg = args, cfg
        self.ferry, self.ferryd = args.ferry, args.ferryd
        # The rows beside the plaintext FTP servers run ferry in plaintext too; the TLS rows
        # (bench/tls_peers.py) are the encrypted comparison.
        self.ferry_plain = [args.ferry, "--plain"]
        # the C++ client of the 500-client row; without it ferry's row uses the Python client
        self.load_exe = args.load if args.load and os.access(args.load, os.X_OK) else None
        # the mover comparison (bench/mover_compare.cpp) of the movers row group
        self.mover_exe = (args.mover_compare if args.mover_compare and
                          os.access(args.mover_compare, os.X_OK) else None)
        self.data = {}       # row -> system -> list of values (None = failed)
        self.extra = {}      # row -> system -> list of dicts
        self.failures = []   # (row, system, message)
        self.skipped = []    # notes
        self.notes = []

    # -- bookkeeping
    def record(self, row, system, value, extra=None, error=None):
        self.data.setdefault(row, {}).setdefault(system, []).append(value)
        if extra is not None:
            self.extra.setdefault(row, {}).setdefault(system, []).append(extra)
        if error:
            self.failures.append((row, system, error))
            log("FAILED %s %s: %s" % (row, system, error.strip()[-400:]))

    def ferry_failed(self):
        return [f for f in self.failures if f[1] == "ferry"]

    # -- setup
    def setup(self):
        self.work = Path(tempfile.mkdtemp(prefix="ferry-bench-", dir="/dev/shm"))
        os.chmod(self.work, 0o755)
        # one version of the programs for the whole run, even if build/ is rebuilt meanwhile
        (self.work / "bin").mkdir()
        for attr in ("ferry", "ferryd", "load_exe", "mover_exe"):
            src = getattr(self, attr)
            if src is None:
                continue
            for _ in range(50):
                try:
                    dst = self.work / "bin" / attr
                    shutil.copy2(src, dst)
                    break
                except OSError:   # being relinked right now
                    time.sleep(0.2)
            else:
                raise RuntimeError("cannot copy " + src)
            setattr(self, attr, str(dst))
        self.srv = self.work / "srv"
        (self.srv / "small").mkdir(parents=True)
        (self.srv / "up").mkdir()
        os.chmod(self.srv / "up", 0o777)   # FTP peers upload as the anonymous user
        c = self.cfg
        with open(self.srv / "big", "wb") as f:
            chunk = os.urandom(MiB)
            for _ in range(c["big"] // MiB):
                f.write(chunk)
        (self.srv / "mid").write_bytes(os.urandom(c["mid"]))
        (self.srv / "tiny").write_bytes(b"x")
        blob = os.urandom(c["small_size"])
        self.small_names = ["small/f%04d" % i for i in range(c["small_n"])]
        for n in self.small_names:
            (self.srv / n).write_bytes(blob)
        self.big_src = self.srv / "big"
        log("files in %s: big %d MiB, mid %d KiB, %d small of %d B" % (
            self.work, c["big"] // MiB, c["mid"] // KiB, c["small_n"], c["small_size"]))

    def cleanup(self):
        PROCS.stop_all()
        if getattr(self, "work", None) and self.work.exists():
            shutil.rmtree(self.work, ignore_errors=True)

    # -- systems available
    def detect(self):
        a = self.args
        self.have = {"curl": bool(shutil.which("curl")), "lftp": bool(shutil.which("lftp")),
                     "vsftpd": bool(vsftpd_bin()) and os.geteuid() == 0,
                     "pyftpdlib": have_pyftpdlib(), "iperf3": bool(shutil.which("iperf3"))}
        if a.ferry_only:
            for k in list(self.have):
                self.have[k] = False
        for k, v in self.have.items():
            if not v:
                why = "not installed" if not a.ferry_only else "--ferry-only"
                if k == "vsftpd" and vsftpd_bin() and os.geteuid() != 0:
                    why = "needs root for its anonymous chroot"
                self.skipped.append("%s skipped: %s" % (k, why))
        self.peers = [p for p in FTP_PEERS
                      if self.have[p.split("+")[0]] and self.have[p.split("+")[1]]]

    def start_servers(self):
        self.srvs = {"ferry": start_ferryd(self.ferryd, self.srv, self.work)}
        for name, fn in (("vsftpd", lambda: start_vsftpd(self.srv, self.work)),
                         ("pyftpdlib", lambda: start_pyftpdlib(self.srv, self.work))):
            if self.have[name]:
                try:
                    self.srvs[name] = fn()
                except Exception as e:
                    self.have[name] = False
                    self.skipped.append("%s skipped: failed to start: %s" % (name, e))
                    self.peers = [p for p in self.peers if not p.startswith(name)]
        if self.have["iperf3"]:
            try:
                self.srvs["iperf3"] = start_iperf3(self.work)
            except Exception as e:
                self.have["iperf3"] = False
                self.skipped.append("iperf3 skipped: failed to start: %s" % e)

    def stop_servers(self):
        for s in self.srvs.values():
            s.stop()

    def port(self, system):
        return self.srvs[system.split("+")[0]].port

    @staticmethod
    def rotate(lst, r):
        return lst[r % len(lst):] + lst[:r % len(lst)] if lst else lst

    # -- rows
    def run_large(self, r):
        c, T = self.cfg, self.cfg["timeouts"]["large"]
        big = c["big"]
        systems = ["ferry"] + self.peers + (["iperf3"] if self.have["iperf3"] else [])
        for sysname in self.rotate(systems, r):
            if sysname == "iperf3":
                self.iperf(r)
                continue
            # GET
            port = self.port(sysname)
            if sysname == "ferry":
                cmd = [*self.ferry_plain, "-q", HOST, str(port), "-c", "get big /dev/null"]
            elif sysname.endswith("curl"):
                cmd = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}",
                       "ftp://%s:%d/big" % (HOST, port)]
            else:
                cmd = lftp_script(self.work / "lftp-get.x", port, ["get big -o /dev/null"])
            meter, client = CpuMeter(self.srvs[sysname.split("+")[0]].proc.pid), []
            meter.start()
            wall, [(rc, _, out)] = timed([cmd], T, client_cpu=client)
            cpu, cpu_extra = meter.stop()
            err = None
            if rc != 0:
                err = "rc %d: %s" % (rc, out)
            elif sysname.endswith("curl") and out.strip() != str(big):
                err = "curl got %s bytes, expected %d" % (out.strip(), big)
            self.record("get", sysname, None if err else big / wall / 1e6, {"seconds": wall}, err)
            self.record_cpu("get", sysname, err, cpu, client[0], big, cpu_extra)
            if sysname == "ferry" and r == 0:
                self.record_peak("peak_get", cmd, T)
            # PUT
            target = self.srv / "up" / "big2"
            if target.exists():
                target.unlink()
            if sysname == "ferry":
                cmd = [*self.ferry_plain, "-q", HOST, str(port), "-c", "put %s up/big2" % self.big_src]
            elif sysname.endswith("curl"):
                cmd = ["curl", "-sS", "--fail", "-T", str(self.big_src),
                       "ftp://%s:%d/up/big2" % (HOST, port)]
            else:
                cmd = lftp_script(self.work / "lftp-put.x", port,
                                  ["put %s -o up/big2" % self.big_src])
            meter, client = CpuMeter(self.srvs[sysname.split("+")[0]].proc.pid), []
            meter.start()
            wall, [(rc, _, out)] = timed([cmd], T, client_cpu=client)
            cpu, cpu_extra = meter.stop()
            err = None
            got = target.stat().st_size if target.exists() else -1
            if rc != 0:
                err = "rc %d: %s" % (rc, out)
            elif got != big:
                err = "uploaded file has %d bytes, expected %d" % (got, big)
            self.record("put", sysname, None if err else big / wall / 1e6, {"seconds": wall}, err)
            self.record_cpu("put", sysname, err, cpu, client[0], big, cpu_extra)
            if target.exists():
                target.unlink()
            if sysname == "ferry" and r == 0:
                self.record_peak("peak_put", cmd, T)
                if target.exists():
                    target.unlink()

    def record_cpu(self, kind, system, err, server_s, client_s, moved, extra):
        """Rows cpu_KIND (the server), cpu_KIND_client and cpu_KIND_both, CPU s per GiB."""
        gib = moved / GiB if moved else 0
        ok = err is None and gib > 0
        extra = dict(extra, client_cpu_s=round(client_s, 4))
        self.record("cpu_" + kind, system, server_s / gib if ok else None, extra)
        self.record("cpu_%s_client" % kind, system, client_s / gib if ok else None)
        self.record("cpu_%s_both" % kind, system, (server_s + client_s) / gib if ok else None)

    def record_peak(self, row, cmd, timeout):
        """ferry's and ferryd's peak RSS over one more run of cmd, not timed."""
        _, [(rc, maxrss, out)] = timed([cmd], timeout, sample_rss=True)
        self.record(row, "ferry", maxrss / 1024.0 if rc == 0 and maxrss else None, None,
                    None if rc == 0 else "rc %d: %s" % (rc, out))
        self.record(row, "ferryd", mem_kib(self.srvs["ferry"].proc.pid)[2] / 1024.0)

    def iperf(self, r):
        port = self.srvs["iperf3"].port
        cmd = ["iperf3", "-c", HOST, "-p", str(port), "-l", "1M", "-n", str(self.cfg["big"]),
               "-J"]
        for attempt in range(2):
            meter, client = CpuMeter(self.srvs["iperf3"].proc.pid), []
            meter.start()
            wall, [(rc, _, out)] = timed([cmd], self.cfg["timeouts"]["large"], keep=10 ** 7,
                                         client_cpu=client)
            cpu, cpu_extra = meter.stop()
            if rc == 0:
                break
            time.sleep(0.5)
        err, val = None, None
        try:
            j = json.loads(out if rc == 0 else "{}")
            recv = j["end"]["sum_received"]
            val = recv["bytes"] / recv["seconds"] / 1e6
        except Exception as e:
            err = "iperf3 rc %d %s: %s" % (rc, e, out[-300:])
        for row in ("get", "put"):
            self.record(row, "iperf3", val, {"seconds_wall": wall}, err if row == "get" else None)
        # iperf3's server as a reference for the servers' CPU per GiB: it receives here (as
        # a server does in a PUT, but into memory, no file); with -R it sends (as in a GET,
        # with write(2) from memory).
        self.record_cpu("put", "iperf3", err, cpu, client[0], recv["bytes"] if not err else 0,
                        cpu_extra)
        meter, client = CpuMeter(self.srvs["iperf3"].proc.pid), []
        meter.start()
        _, [(rc, _, out)] = timed([cmd + ["-R"]], self.cfg["timeouts"]["large"], keep=10 ** 7,
                                  client_cpu=client)
        cpu, cpu_extra = meter.stop()
        err, moved = None, 0
        try:
            moved = json.loads(out if rc == 0 else "{}")["end"]["sum_received"]["bytes"]
        except Exception as e:
            err = "iperf3 -R rc %d %s: %s" % (rc, e, out[-300:])
            log("iperf3 -R for the CPU reference failed: " + err)
        self.record_cpu("get", "iperf3", err, cpu, client[0], moved, cpu_extra)

    def run_small(self, r):
        c, T = self.cfg, self.cfg["timeouts"]["small"]
        n = len(self.small_names)
        for sysname in self.rotate(["ferry"] + self.peers, r):
            if sysname.endswith("curl") and r > 0:
                continue   # curl 7.88 stalls ~1 s before some FTP data connections: once only
            port = self.port(sysname)
            stdin = None
            if sysname == "ferry":
                p = self.work / "ferry-small.txt"
                p.write_text("".join("get %s /dev/null\n" % x for x in self.small_names))
                cmd, stdin = [*self.ferry_plain, "-q", HOST, str(port)], [str(p)]
            elif sysname.endswith("curl"):
                cmd = curl_config(self.work / "curl-small.cfg", port,
                                  [(x, "/dev/null") for x in self.small_names])
            else:
                cmd = lftp_script(self.work / "lftp-small.x", port,
                                  ["get %s -o /dev/null" % x for x in self.small_names])
            wall, [(rc, _, out)] = timed([cmd], 60 if sysname.endswith("curl") else T, stdin)
            err = "rc %d: %s" % (rc, out) if rc != 0 else None
            self.record("small", sysname, None if err else n / wall, {"seconds": wall}, err)

    def run_conc(self, r):
        c, T = self.cfg, self.cfg["timeouts"]["conc"]
        k, g, size = c["conc_clients"], c["conc_gets"], c["mid"]
        systems = ["ferry"] + [p for p in self.peers if r == 0 or not p.endswith("curl")]
        for sysname in self.rotate(systems, r):
            port = self.port(sysname)
            stdin = None
            if sysname == "ferry":
                p = self.work / "ferry-conc.txt"
                p.write_text("get mid /dev/null\n" * g)
                cmds, stdin = [[*self.ferry_plain, "-q", HOST, str(port)]] * k, [str(p)] * k
            elif sysname.endswith("curl"):
                cmds = [curl_config(self.work / "curl-conc.cfg", port, [("mid", "/dev/null")] * g)] * k
            else:
                cmds = [lftp_script(self.work / "lftp-conc.x", port,
                                    ["get mid -o /dev/null"] * g)] * k
            wall, res = timed(cmds, 60 if sysname.endswith("curl") else T, stdin)
            bad = [x for x in res if x[0] != 0]
            err = ("%d of %d clients failed, first: rc %d: %s" % (len(bad), k, bad[0][0], bad[0][2])
                   if bad else None)
            self.record("conc", sysname, None if err else k * g * size / wall / 1e6,
                        {"seconds": wall}, err)

    def lat_load(self, r):
        """ferry's 500-client row with ferry-load (C++, one thread): one JSON line."""
        c, T = self.cfg, self.cfg["timeouts"]["lat"]
        cmd = [self.load_exe, "--host", HOST, "--port", str(self.srvs["ferry"].port),
               "--clients", str(c["lat_clients"]), "--requests", str(c["lat_gets"]),
               "--size", str(c["small_size"]), "--timeout", "30"]
        for name in self.small_names[:c["lat_clients"] * c["lat_gets"]]:
            cmd += ["--file", name]   # client i, GET j: name (i * gets + j) % len, as below
        err, j = None, None
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=T)
            lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
            j = json.loads(lines[-1]) if lines else None
            if p.returncode != 0 or not j:
                err = "ferry-load rc %d: %s %s" % (p.returncode, p.stderr[-300:],
                                                   (j or {}).get("first_error") or "")
        except subprocess.TimeoutExpired:
            err = "ferry-load killed at the %d s timeout" % T
        except ValueError as e:
            err = "ferry-load printed no JSON: %s" % e
        ok = err is None
        self.record("lat_rps", "ferry", j["req_per_s"] if ok else None, j, err)
        self.record("lat_p50", "ferry", j["p50_ms"] if ok else None)
        self.record("lat_p99", "ferry", j["p99_ms"] if ok else None)

    def run_lat(self, r):
        c, T = self.cfg, self.cfg["timeouts"]["lat"]
        servers = ["ferry"] + (["ferry+raw"] if self.load_exe else []) + \
            [s for s in ("vsftpd", "pyftpdlib") if s in self.srvs]
        for name in self.rotate(servers, r):
            if name == "ferry" and self.load_exe:
                self.lat_load(r)
                continue
            sysname = name if name.startswith("ferry") else name + "+raw"
            name = name.split("+")[0]
            wall, lat, errors = asyncio.run(latency_run(
                "ferry" if name == "ferry" else "ftp", self.srvs[name].port, c["lat_clients"],
                c["lat_gets"], self.small_names, c["small_size"], T))
            n = c["lat_clients"] * c["lat_gets"]
            err = ("%d errors, first: %s" % (len(errors), errors[0])) if errors else None
            ok = not err and len(lat) == n
            if not err and len(lat) != n:
                err = "%d of %d requests done" % (len(lat), n)
            self.record("lat_rps", sysname, n / wall if ok else None, {"seconds": wall}, err)
            self.record("lat_p50", sysname, pct(lat, 50) * 1000 if ok else None)
            self.record("lat_p99", sysname, pct(lat, 99) * 1000 if ok else None)

    # -- movers
    def run_movers(self):
        """ferry-mover-compare (bench/mover_compare.cpp): every method `reps` times,
        interleaved inside the program; one JSON line with every run."""
        c, reps = self.cfg, self.reps["movers"]
        T = c["timeouts"]["movers"]
        cmd = [self.mover_exe, "--dir", str(self.work), "--size", str(max(c["big"], MiB)),
               "--repeats", str(reps), "--max-seconds", str(T), "--json"]
        err, j, text = None, None, ""
        try:
            # the program's own limit bounds the trials; the margin is for making the file
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=T + 120)
            text = p.stdout
            lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
            j = json.loads(lines[-1]) if lines else None
            if p.returncode != 0 or not j:
                err = "ferry-mover-compare rc %d: %s" % (p.returncode, p.stderr[-500:])
        except subprocess.TimeoutExpired:
            err = "ferry-mover-compare killed at the %d s timeout" % (T + 120)
        except ValueError as e:
            err = "ferry-mover-compare printed no JSON: %s" % e
        if err:
            self.failures.append(("movers", "ferry-mover-compare", err))
            log("FAILED movers: %s" % err.strip()[-400:])
        if not j:
            return
        self.extra["movers"] = j
        for line in text.splitlines():
            if line and not line.startswith("{"):
                log("movers: " + line)
        for m in j["methods"]:
            system = "%s %s" % (m["group"], m["name"])
            for row, key in (("mover_gbps", "gbps"), ("mover_send_cpu", "send_cpu_s_per_gib"),
                             ("mover_recv_cpu", "receive_cpu_s_per_gib")):
                for v in (m.get(key) or {}).get("runs", []):
                    self.record(row, system, v)
                for _ in range(m.get("failed", 0)):
                    self.record(row, system, None)

    # -- memory
    def idle_ferry(self):
        steps = self.cfg["idle_steps"]
        want = steps[-1] + 1
        limit = raise_fd_limit()
        if limit < want + 100:
            self.skipped.append("ferryd idle %d: fd limit %d too low" % (steps[-1], limit))
            return
        srv = start_ferryd(self.ferryd, self.srv, self.work, max_sessions=steps[-1] + 100)
        pid = srv.proc.pid
        socks = []
        out = {}
        try:
            time.sleep(0.2)
            base_fds = len(os.listdir("/proc/%d/fd" % pid))
            rss0 = mem_kib(pid)
            for n in steps:
                while len(socks) < n:
                    try:
                        s = idle_client(len(socks), srv.port)
                    except OSError as e:
                        raise RuntimeError("client could not open session %d: %s (%d TIME_WAIT "
                                           "sockets on the host)" % (len(socks) + 1, e,
                                                                     time_wait_count()))
                    socks.append(s)
                wait_for(lambda: len(os.listdir("/proc/%d/fd" % pid)) >= base_fds + n,
                         "ferryd to accept %d sessions" % n, 60)
                time.sleep(0.5)
                out[n] = mem_kib(pid)
                if srv.proc.poll() is not None:
                    raise RuntimeError("ferryd exited with %d sessions" % n)
            # Every held session still answers an OPEN, and the port it opens serves a
            # 1-byte GET.
            answered, t0 = 0, time.monotonic()
            first_err = None
            tw0 = time_wait_count()
            for s in socks:
                try:
                    s.settimeout(10)
                    s.sendall(b"OPEN 0\n\n")
                    buf = b""
                    while b"\n\n" not in buf:
                        d = s.recv(256)
                        if not d:
                            raise RuntimeError("control connection closed")
                        buf += d
                    if not buf.startswith(b"OPENED "):
                        raise RuntimeError("OPEN answered %r" % buf)
                    d = socket.socket()
                    d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    d.settimeout(10)
                    d.bind((s.getsockname()[0], 0))
                    d.connect((HOST, int(buf.split()[1])))
                    d.sendall(b"GET\nFILENAME: tiny\n\n")
                    got = b""
                    for _ in range(100):
                        x = d.recv(4096)
                        if not x:
                            break
                        got += x
                    rst_close(d)
                    if not got.endswith(b"\n\nx"):
                        raise RuntimeError("GET tiny answered %r" % got[:100])
                    answered += 1
                except Exception as e:
                    first_err = first_err or repr(e)
            open_secs = time.monotonic() - t0
            after = mem_kib(pid)
        finally:
            for s in socks:
                rst_close(s)
            srv.stop()
        n1, nk = steps[0], steps[-1]
        per = (out[nk][0] - out[n1][0]) / (nk - n1)
        per_mid = (out[steps[1]][0] - out[n1][0]) / (steps[1] - n1) if len(steps) > 2 else None
        err = None
        if answered != len(socks):
            err = "%d of %d idle sessions answered OPEN; first error: %s" % (
                answered, len(socks), first_err)
        self.record("idle_kib", "ferry", None if err else per, {
            "rss_kib_start": rss0[0], "rss_kib": {str(k): v[0] for k, v in out.items()},
            "pss_kib": {str(k): v[1] for k, v in out.items()},
            "per_session_kib_mid": per_mid, "answered_open": answered,
            "time_wait_sockets_before_open_round": tw0,
            "open_round_seconds": open_secs, "rss_kib_after_open": after[0],
            "peak_rss_kib": after[2]}, err)

    def idle_ftp(self, name, n):
        """Per-session memory of an FTP server with n logged-in idle sessions."""
        try:
            srv = start_vsftpd(self.srv, self.work) if name == "vsftpd" else \
                start_pyftpdlib(self.srv, self.work)
        except Exception as e:
            self.record("idle_kib", name, None, None, "start: %s" % e)
            return
        socks, err = [], None

        def total():
            pids = [srv.proc.pid] + descendants(srv.proc.pid)
            m = [mem_kib(p) for p in pids]
            return len(pids), sum(x[0] for x in m), sum(x[1] for x in m)
        try:
            time.sleep(0.3)
            nproc0, rss0, pss0 = total()
            for _ in range(n):
                s = socket.create_connection((HOST, srv.port), timeout=10)
                s.settimeout(10)
                f = s.makefile("rb")
                for cmd, ok in ((None, b"220"), (b"USER anonymous", b"331"),
                                (b"PASS bench@", b"230")):
                    if cmd == b"PASS bench@" and line.startswith(b"230"):
                        break   # vsftpd with no_anon_password: no PASS asked
                    if cmd:
                        s.sendall(cmd + b"\r\n")
                    while True:
                        line = f.readline()
                        if not line:
                            raise RuntimeError("closed during login")
                        if line[3:4] == b" ":
                            break
                    if not line.startswith(ok) and not (cmd and cmd.startswith(b"USER")
                                                        and line.startswith(b"230")):
                        raise RuntimeError("%r answered %r" % (cmd, line))
                socks.append((s, f))
            if name == "vsftpd":   # two processes per logged-in session
                wait_for(lambda: total()[0] >= 1 + 2 * n, "vsftpd session processes", 30)
            time.sleep(0.5)
            nproc1, rss1, pss1 = total()
            answered = 0
            for s, f in socks:
                s.sendall(b"PASV\r\n")
                if f.readline().startswith(b"227"):
                    answered += 1
            if answered != n:
                err = "%d of %d sessions answered PASV" % (answered, n)
        except Exception as e:
            err = repr(e)
        finally:
            for s, f in socks:
                f.close()
                rst_close(s)
            srv.stop()
        if err:
            self.record("idle_kib", name, None, None, err)
            return
        primary = (pss1 - pss0) / n if name == "vsftpd" else (rss1 - rss0) / n
        self.record("idle_kib", name, primary, {
            "sessions": n, "processes": [nproc0, nproc1], "rss_sum_kib": [rss0, rss1],
            "pss_sum_kib": [pss0, pss1], "per_session_rss_kib": (rss1 - rss0) / n,
            "per_session_pss_kib": (pss1 - pss0) / n})

    # -- the whole run
    def run(self):
        a, c = self.args, self.cfg
        reps = {k: (a.repeats or v) for k, v in c["repeats"].items()}
        self.reps = reps
        self.detect()
        self.setup()
        self.meta_start = time.time()
        self.load = [os.getloadavg()]
        if not a.only or "idle" in a.only:
            # first: the other rows leave thousands of TIME_WAIT sockets for 60 s, and a
            # crowded ephemeral port range makes every bind(0) (ferry's OPEN 0) slower
            for r in range(reps["idle"]):
                log("idle sessions, repeat %d/%d (%d TIME_WAIT sockets on this host)" % (
                    r + 1, reps["idle"], time_wait_count()))
                try:
                    self.idle_ferry()
                except Exception as e:
                    self.record("idle_kib", "ferry", None, None, repr(e))
                if self.have["vsftpd"]:
                    self.idle_ftp("vsftpd", c["vs_idle"])
                if self.have["pyftpdlib"]:
                    self.idle_ftp("pyftpdlib", c["py_idle"])
        groups = [(name, fn, key) for name, fn, key in (
            ("large files", self.run_large, "large"), ("small files", self.run_small, "small"),
            ("50 clients", self.run_conc, "conc"), ("500 clients", self.run_lat, "lat"))
            if selected(a, key)]
        if groups:
            self.start_servers()
            log("systems: ferry, %s%s" % (", ".join(self.peers) or "no FTP peers",
                                          ", iperf3" if self.have["iperf3"] else ""))
            for name, fn, key in groups:
                for r in range(reps[key]):
                    log("%s, repeat %d/%d" % (name, r + 1, reps[key]))
                    fn(r)
            self.stop_servers()
        if selected(a, "tls"):
            log("TLS rows (bench/tls_peers.py), %d repeats" % reps["tls"])
            tls_peers.run_group(self, RT, reps["tls"])
        elif a.quick and not a.only:
            self.skipped.append("TLS rows skipped: not in --quick (--quick --only tls runs them)")
        if selected(a, "movers"):
            if self.mover_exe:
                log("movers: ferry-mover-compare, %d repeats" % reps["movers"])
                self.run_movers()
            else:
                self.skipped.append("movers skipped: %s is not built (cmake --build BUILD "
                                    "--target ferry-mover-compare)" % a.mover_compare)
        self.load.append(os.getloadavg())
        self.meta_end = time.time()


# ----------------------------------------------------------------------------------------
# Report

def stats(vals):
    ok = [v for v in vals if v is not None]
    if not ok:
        return None
    return {"median": statistics.median(ok), "min": min(ok), "max": max(ok), "n": len(ok),
            "failed": len(vals) - len(ok)}


def fmt(v, digits=None):
    if v is None:
        return "—"
    if digits is None:
        digits = 0 if abs(v) >= 100 else (1 if abs(v) >= 10 else 2)
    return "{:,.{}f}".format(v, digits)


def cell(st, digits=None):
    if st is None:
        return "failed"
    s = "%s (%s–%s)" % (fmt(st["median"], digits), fmt(st["min"], digits), fmt(st["max"], digits))
    if st["failed"]:
        s += ", %d failed" % st["failed"]
    return s


def pair_ratio(data, row, a, b):
    """Median (min, max) of the per-repeat ratios a/b, repeat by repeat."""
    xs, ys = data.get(row, {}).get(a, []), data.get(row, {}).get(b, [])
    rs = [x / y for x, y in zip(xs, ys) if x is not None and y]
    if not rs:
        return None
    return {"median": statistics.median(rs), "min": min(rs), "max": max(rs), "n": len(rs),
            "failed": 0}


def best(data, row, systems, higher=True):
    cand = [(stats(data.get(row, {}).get(s, [])), s) for s in systems]
    cand = [(st["median"], s) for st, s in cand if st]
    if not cand:
        return None
    return (max if higher else min)(cand)[1]


def verdict(key, value):
    if value is None:
        return "not measured"
    t, op = TARGETS[key]
    ok = {">=": value >= t, "<": value < t, "<=": value <= t}[op]
    return "**met**" if ok else "**not met**"


def tool_versions(b):
    v = {}
    r = subprocess.run([b.ferry, "--version"], capture_output=True, text=True)
    v["ferry"] = (r.stdout or r.stderr).strip()
    g = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    if g.returncode == 0:
        v["ferry"] += " (git %s)" % g.stdout.strip()
    for pkg in ("vsftpd", "python3-pyftpdlib", "curl", "lftp", "iperf3"):
        v[pkg] = deb_version(pkg)
    if "tls" in b.extra:
        v.update(tls_peers.versions())
    return v


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "memory_gib": round(int(mem) / MiB, 1),
            "os": Path("/etc/debian_version").read_text().strip()
            if Path("/etc/debian_version").exists() else platform.platform()}


def report(b, out_dir, quick):
    d, c = b.data, b.cfg
    peers = b.peers
    summary = {}
    lines = []
    m = machine()
    v = tool_versions(b)
    date = datetime.datetime.fromtimestamp(b.meta_start).strftime("%Y-%m-%d %H:%M")
    lines += ["# ferry benchmark%s" % (" (quick smoke run: tiny sizes, not a measurement)"
                                       if quick else ""), "",
              "- Date: %s, %d min; load average %.2f at the start, %.2f at the end (the "
              "machine is shared)" % (date, round((b.meta_end - b.meta_start) / 60),
                                       b.load[0][0], b.load[-1][0]),
              "- Machine: %d cores (`nproc`), %s, Linux %s, Debian %s, %s GiB RAM; loopback "
              "only, files on tmpfs (/dev/shm)" % (m["nproc"], m["cpu"], m["kernel"], m["os"],
                                                  m["memory_gib"]),
              "- Versions: " + "; ".join("%s %s" % (k, x) for k, x in v.items()),
              "- Repeats: large files %d, small files %d, 50 clients %d, 500 clients %d, idle "
              "sessions %d, movers %d; systems interleaved within each repeat (order rotated "
              "per repeat); cells are median (min–max)" % tuple(
                  b.reps[k] for k in ("large", "small", "conc", "lat", "idle", "movers"))]
    # `--only tls`: the TLS rows alone (bench/tls_peers.py), without the other groups' tables
    only_tls = set(b.args.only or []) == {"tls"}
    if only_tls:
        lines[-1] = "- Repeats: TLS rows %d; systems interleaved within each repeat (order " \
            "rotated per repeat); cells are median (min–max)" % b.reps["tls"]
    elif "tls" in b.extra:
        lines[-1] = lines[-1].replace("; systems interleaved", ", TLS rows %d; systems "
                                      "interleaved" % b.reps["tls"], 1)
    for s in b.skipped:
        lines.append("- " + s)
    lines.append("")
    head = len(lines)

    # summary with targets
    def ratio_row(label, row, key_peer, key_iperf=None, higher=True):
        if row not in d:
            return ["| %s | not run | | | | |" % label]
        bp = best(d, row, peers, higher)
        fr = stats(d.get(row, {}).get("ferry", []))
        rows = []
        rp = pair_ratio(d, row, "ferry", bp) if bp else None
        summary[key_peer] = {"best_peer": bp, "ratio": rp}
        rows.append("| %s | %s | %s | ferry / best peer: %s | ≥ %.1f | %s |" % (
            label, cell(fr), ("%s: %s" % (bp, cell(stats(d[row][bp])))) if bp else "no peer",
            cell(rp, 2) if rp else "—", TARGETS[key_peer][0],
            verdict(key_peer, rp["median"] if rp else None)))
        if key_iperf:
            ri = pair_ratio(d, row, "ferry", "iperf3") if "iperf3" in d.get(row, {}) else None
            summary[key_iperf] = {"ratio": ri}
            rows.append("| %s | %s | iperf3: %s | ferry / iperf3: %s | ≥ %.1f | %s |" % (
                label, cell(fr), cell(stats(d[row]["iperf3"])) if ri else "not measured",
                cell(ri, 2) if ri else "—", TARGETS[key_iperf][0],
                verdict(key_iperf, ri["median"] if ri else None)))
        return rows

    big = "%d GiB" % (c["big"] // GiB) if c["big"] >= GiB else "%d MiB" % (c["big"] // MiB)
    lines += ["## Targets (issue 3, section 2)", "",
              "| row | ferry | reference | ratio (per-repeat pairs) | target | |",
              "|---|---|---|---|---|---|"]
    lines += ratio_row("GET %s, MB/s" % big, "get", "get_vs_peer", "get_vs_iperf")
    lines += ratio_row("PUT %s, MB/s" % big, "put", "put_vs_peer", "put_vs_iperf")
    lines += ratio_row("%d × %d KiB in one session, files/s" % (c["small_n"], c["small_size"] // KiB),
                       "small", "small_vs_peer")
    lines += ratio_row("%d clients × %d GETs of %d %s, aggregate MB/s" % (
        c["conc_clients"], c["conc_gets"], c["mid"] // (MiB if c["mid"] >= MiB else KiB),
        "MiB" if c["mid"] >= MiB else "KiB"), "conc", "conc_vs_peer")
    p99 = stats(d.get("lat_p99", {}).get("ferry", []))
    summary["lat_p99_ms"] = p99
    summary["lat_client"] = "ferry-load" if b.load_exe else "python-asyncio"
    lines.append("| %d clients × %d small GETs, p99 latency ms | %s (%s) | %s | — | < 50 ms | %s |" % (
        c["lat_clients"], c["lat_gets"], cell(p99),
        "C++ client ferry-load" if b.load_exe else "Python asyncio client",
        ("Python asyncio client: " + "; ".join(
            "%s: %s" % (s, cell(stats(d["lat_p99"][s]))) for s in d.get("lat_p99", {})
            if s != "ferry")) if len(d.get("lat_p99", {})) > 1 else "no peer",
        verdict("lat_p99_ms", p99["median"] if p99 else None)))
    idle = stats(d.get("idle_kib", {}).get("ferry", []))
    ex = (b.extra.get("idle_kib", {}).get("ferry") or [None])[-1]
    summary["idle_kib"] = idle
    refs = "; ".join("%s: %s KiB%s" % (s, cell(stats(d["idle_kib"][s])),
                                       " (PSS)" if s == "vsftpd" else " (RSS)")
                     for s in ("vsftpd", "pyftpdlib") if s in d.get("idle_kib", {})) or "no peer"
    lines.append("| idle control session, KiB RSS each (%s held%s) | %s | %s | — | ≤ 2 KiB | %s |" % (
        "{:,}".format(c["idle_steps"][-1]),
        (", %d answered OPEN" % ex["answered_open"]) if ex else "", cell(idle), refs,
        verdict("idle_kib", idle["median"] if idle else None)))
    pk = [x for row in ("peak_get", "peak_put") for x in d.get(row, {}).get("ferryd", []) +
          d.get(row, {}).get("ferry", []) if x is not None]
    pkmax = max(pk) if pk else None
    summary["peak_rss_mib"] = pkmax
    lines.append("| peak RSS of ferryd / ferry over the %s transfers, MiB | %s | — | — | flat, a few "
                 "MiB (≤ 8 MiB) | %s |" % (
                     big, "ferryd %s, ferry %s" % (
                         fmt(max([x for r in ("peak_get", "peak_put")
                                  for x in d.get(r, {}).get("ferryd", []) if x] or [0]), 1),
                         fmt(max([x for r in ("peak_get", "peak_put")
                                  for x in d.get(r, {}).get("ferry", []) if x] or [0]), 1)),
                     verdict("peak_rss_mib", pkmax)))
    lines.append("")

    lines += cpu_section(b, big, summary)
    lines += movers_section(b)
    tls_lines = tls_peers.section(b, RT, summary)
    lines += tls_lines

    # details
    units = {"get": "MB/s", "put": "MB/s", "small": "files/s", "conc": "MB/s",
             "lat_rps": "req/s", "lat_p50": "ms", "lat_p99": "ms", "idle_kib": "KiB/session",
             "cpu_get": "server CPU s/GiB", "cpu_put": "server CPU s/GiB"}
    names = {"get": "GET %s" % big, "put": "PUT %s" % big, "small": "small files",
             "cpu_get": "GET %s, server CPU" % big, "cpu_put": "PUT %s, server CPU" % big,
             "conc": "%d clients aggregate" % c["conc_clients"],
             "lat_rps": "%d clients req/s" % c["lat_clients"], "lat_p50": "%d clients p50" %
             c["lat_clients"], "lat_p99": "%d clients p99" % c["lat_clients"],
             "idle_kib": "idle session memory"}
    lines += ["## All measurements", "", "| row | system | median (min–max) | unit | runs |",
              "|---|---|---|---|---|"]
    for row in units:
        for s, vals in d.get(row, {}).items():
            st = stats(vals)
            shown = s + (" (ferry-load)" if s == "ferry" and row.startswith("lat_") and b.load_exe
                         else "")
            lines.append("| %s | %s | %s | %s | %d |" % (names[row], shown, cell(st), units[row],
                                                        len(vals)))
    lines.append("")
    if ex:
        lines += ["ferryd RSS with idle control sessions (last repeat): " + ", ".join(
            "%s sessions %s KiB" % ("{:,}".format(int(k)), "{:,}".format(vv))
            for k, vv in ex["rss_kib"].items()) +
            "; before any session %s KiB; after every session answered an OPEN and served a "
            "1-byte GET on the opened port %s KiB (%.1f s for that round)." % (
                "{:,}".format(ex["rss_kib_start"]), "{:,}".format(ex["rss_kib_after_open"]),
                ex["open_round_seconds"]), ""]
    lines += [
        "Notes:",
        "- MB/s = 10^6 bytes/s, wall time of the client process (start to exit) for ferry, "
        "curl and lftp; iperf3's own receiver figure for iperf3 (`iperf3 -c -l 1M -n <size>`,"
        " one stream). GET writes to /dev/null; PUT reads from tmpfs and writes to tmpfs "
        "(ferryd fsyncs, as its protocol requires; on tmpfs that is cheap).",
        "- Best peer = the fastest of vsftpd and pyftpdlib, each driven by curl and by lftp, "
        "by median on that row; the ratio is taken repeat by repeat (ferry vs that peer in the "
        "same repeat) and its median (min–max) is shown.",
        "- Small files: one ferry session fed %d `get` lines on stdin; one curl process with "
        "all URLs (one connection); one lftp session with %d `get` commands. curl (7.88, "
        "which stalls ~1 s before some FTP data connections) runs in the first repeat only, "
        "on this row and the next, with a 60 s limit; lftp is the peer client in every repeat." % (
            c["small_n"], c["small_n"]),
        "- %d clients: %d client processes at once (ferry, curl or lftp), each with %d GETs "
        "in one session; wall time until the last one exits." % (
            c["conc_clients"], c["conc_clients"], c["conc_gets"]),
        "- %d clients: one client process holds %d control sessions (FTP: logged in, TYPE I), "
        "then all run %d GETs of %d-byte files at once; latency = OPEN (FTP: PASV) sent to "
        "the last byte (FTP: 226) received; req/s = requests / wall time from the start of "
        "the GETs to the last session's end. %s"
        "The FTP peers (`+raw`) are measured with the Python asyncio client (bench/run.py), "
        "which saturates at a few thousand requests per second on these 2 cores, so their "
        "latencies are mostly that client's own queueing: a bound, for reference.%s" % (
            c["lat_clients"], c["lat_clients"], c["lat_gets"], c["small_size"],
            ("ferry's row (`ferry`) is measured with ferry-load (bench/ferry_load.cpp: C++20, "
             "asio coroutines, one thread, nothing pinned), which leaves the server the "
             "rest of the 2 cores; `ferry+raw` is ferryd again with the Python client, for "
             "comparison with the peers. ") if b.load_exe else
            "ferry-load was not built, so ferry's row is measured with the Python asyncio "
            "client as well (`make bench` builds it). ",
            (" ferry-load's own CPU time over its runs: %s s for %s s of wall time." % (
                "/".join("%.2f" % x["client_cpu_s"] for x in b.extra.get("lat_rps", {})
                         .get("ferry", []) if x),
                "/".join("%.2f" % x["wall_s"] for x in b.extra.get("lat_rps", {})
                         .get("ferry", []) if x))) if b.load_exe else ""),
        "- CPU per GiB (cpu_get, cpu_put; _client, _both): over each timed large-file "
        "transfer above, per GiB (2^30 bytes) moved. Server: user + system time of the "
        "server process, its threads and the processes it forks for a session, from "
        "/proc/PID/stat (utime, stime, and cutime, cstime of the children it waited for; in "
        "1/100 s), read when the server is quiet before and after; vsftpd's session "
        "processes that outlive their parent are adopted by the bench "
        "(PR_SET_CHILD_SUBREAPER) and counted from wait4. Client: wait4's user + system. "
        "iperf3: its server receiving into memory (PUT) and, with -R, sending from memory "
        "with write(2) (GET), as a reference. On loopback the receiving side's TCP "
        "processing runs in softirq on whichever CPU and task is at hand: often the "
        "sender's (its transmit runs the loopback receive), or the receiver's when it holds "
        "the socket at that moment. So the server/client split moves with scheduling and "
        "with how the client reads (a client that sleeps until 1 MiB has arrived, as ferry "
        "does, leaves more of it to the server); the sum of both is the stable figure. On a "
        "real network card the receiving side's share is paid on the other host.",
        "- Idle sessions: ferryd's VmRSS (its own process; kernel socket buffers are not "
        "in it), per session = (RSS at %s − RSS at %s) / difference. vsftpd: %d anonymous "
        "logged-in sessions (two processes each), sum of PSS from /proc/PID/smaps_rollup "
        "over the listener and all its session processes, minus the listener alone, per "
        "session (RSS sums in the JSON). pyftpdlib: %d logged-in sessions, RSS growth of "
        "its one process per session. Each FTP session then answered a PASV." % (
            "{:,}".format(c["idle_steps"][-1]), c["idle_steps"][0], c["vs_idle"], c["py_idle"]),
    ]
    if only_tls:
        lines = lines[:head] + tls_lines
    if b.failures:
        lines += ["", "Failures:"]
        for row, s, e in b.failures:
            lines.append("- %s / %s: %s" % (row, s, " ".join(e.split())[:300]))
    md = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.md").write_text(md)
    raw = {"machine": m, "versions": v, "date": date, "config": {k: vv for k, vv in c.items()},
           "repeats": b.reps, "load_average": b.load, "skipped": b.skipped,
           "values": d, "details": b.extra, "summary": summary,
           "failures": [{"row": r, "system": s, "error": e} for r, s, e in b.failures],
           "targets": {k: {"value": t, "op": op} for k, (t, op) in TARGETS.items()}}
    (out_dir / "latest.json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    if not only_tls:   # the chart is of the issue-3 ratios
        chart(summary, out_dir, quick)
    return md


def cpu_section(b, big, summary):
    """CPU per GiB (issue 8, section 4): each system's server, client and both, then ferry
    against the lowest FTP peer, pair by pair."""
    d = b.data
    if "cpu_get" not in d and "cpu_put" not in d:
        return []
    kinds = ("cpu_get", "cpu_get_client", "cpu_get_both", "cpu_put", "cpu_put_client",
             "cpu_put_both")
    lines = ["## CPU per GiB moved (issue 8, section 4; lower is better)", "",
             "CPU seconds per GiB over each timed %s transfer of the rows above, median (min–max)"
             " of %d repeats. server = the server process, its threads and the processes it "
             "forks for the session; client = the client process (wait4); both = their sum. "
             "On loopback the split between the two is not stable (notes below): their sum "
             "is." % (big, b.reps["large"]), "",
             "| system | GET: server | GET: client | GET: both | PUT: server | PUT: client | "
             "PUT: both |", "|---|---|---|---|---|---|---|"]
    for system in ["ferry"] + b.peers + ["iperf3"]:
        if not any(d.get(k, {}).get(system) for k in kinds):
            continue
        label = "iperf3 (memory to memory; GET with -R)" if system == "iperf3" else system
        lines.append("| %s | %s |" % (label, " | ".join(
            cell(stats(d.get(k, {}).get(system, [])), 3) if d.get(k, {}).get(system) else "—"
            for k in kinds)))
    lines += ["", "| ratio (per-repeat pairs) | GET | PUT |", "|---|---|---|"]
    for label, suffix in (("server: ferry / lowest peer", ""),
                          ("server + client: ferry / lowest peer", "_both")):
        cells = []
        for kind in ("get", "put"):
            row = "cpu_%s%s" % (kind, suffix)
            bp = best(d, row, b.peers, higher=False)
            rp = pair_ratio(d, row, "ferry", bp) if bp else None
            summary[row + "_vs_peer"] = {"ferry": stats(d.get(row, {}).get("ferry", [])),
                                         "lowest_peer": bp, "ratio": rp}
            cells.append("ferry / %s: %s" % (bp, cell(rp, 2)) if rp else "—")
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    lines.append("")
    return lines


def movers_section(b):
    """The table of ferry-mover-compare (bench/mover_compare.cpp), from its JSON."""
    j = b.extra.get("movers")
    if not j:
        return []
    size = j["size"]
    lines = ["## Movers side by side (bench/mover_compare.cpp; issue 8, section 4)", "",
             "%s from tmpfs over one 127.0.0.1 connection, from a sending thread to a "
             "receiving thread of one process; %d of %d repeats, methods interleaved; CPU = "
             "CPU seconds of the thread per GiB (lower is better); ×base = the per-repeat "
             "ratio to the group's first method, median (min–max). Load average %s at its "
             "start, %s at its end." % (
                 "%d GiB" % (size // GiB) if size >= GiB else "%d MiB" % (size // MiB),
                 j["repeats_done"], j["repeats"], j["load_average_start"],
                 j["load_average_end"]), "",
             "| group | method | GB/s | sender CPU s/GiB | receiver CPU s/GiB | both CPU s/GiB | "
             "GB/s ×base | sender CPU ×base | receiver CPU ×base | both CPU ×base |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    what = {"send": "sending (receiver: read 1 MiB, discarded)",
            "receive": "receiving into a new file (sender: sendfile)"}
    for m in j["methods"]:
        def c(key, digits):
            st = m.get(key)
            if not st:
                return "failed"
            st = dict(st, n=len(st["runs"]), failed=0)
            return cell(st, digits)
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            what.get(m["group"], m["group"]), m["name"] + (
                " (%d failed)" % m["failed"] if m.get("failed") else ""),
            c("gbps", 2), c("send_cpu_s_per_gib", 3), c("receive_cpu_s_per_gib", 3),
            c("both_cpu_s_per_gib", 3), c("gbps_vs_baseline", 2), c("send_cpu_vs_baseline", 2),
            c("receive_cpu_vs_baseline", 2), c("both_cpu_vs_baseline", 2)))
    lines.append("")
    return lines


def chart(summary, out_dir, quick):
    png = out_dir / "latest.png"
    if not shutil.which("gnuplot"):
        log("gnuplot not installed: no chart")
        return
    rows = [("GET / peer", "get_vs_peer"), ("GET / iperf3", "get_vs_iperf"),
            ("PUT / peer", "put_vs_peer"), ("PUT / iperf3", "put_vs_iperf"),
            ("small files / peer", "small_vs_peer"), ("concurrent / peer", "conc_vs_peer")]
    dat = out_dir / "latest-chart.dat"
    with open(dat, "w") as f:
        for label, key in rows:
            r = (summary.get(key) or {}).get("ratio")
            if r:
                f.write('"%s" %.4f %.4f %.4f %.4f\n' % (label, r["median"], TARGETS[key][0],
                                                       r["min"], r["max"]))
            else:
                f.write('"%s" 0 %.4f 0 0\n' % (label, TARGETS[key][0]))
    script = """
set terminal pngcairo size 1200,600 font "DejaVu Sans,11"
set output '%s'
set title "ferry: measured ratios (median of per-repeat pairs; whiskers min–max) and the issue-3 targets%s"
set style data histograms
set style histogram errorbars gap 2 lw 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "ratio (higher is better)"
set yrange [0:*]
set grid ytics
set key top right
set xtics noenhanced
set xtics font ",12"
set offsets 0, 0, graph 0.08, 0
plot '%s' using 2:4:5:xtic(1) title "ferry / reference (best peer or iperf3)" lc rgb "#2c7fb8", \\
     '' using 3:3:3 title "target (issue 3)" lc rgb "#bbbbbb", \\
     '' using ($0-0.125):2:(sprintf("%%.2f", $2)) with labels offset 0,0.8 font ",11" notitle, \\
     '' using ($0+0.125):3:(sprintf("%%.1f", $3)) with labels offset 0,0.8 font ",10" tc rgb "#666666" notitle, \\
     1 notitle with lines dt 2 lc rgb "#555555"
""" % (png, " — QUICK SMOKE RUN, tiny sizes" if quick else "", dat)
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    dat.unlink()
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr[-500:])


def check_table(md, b):
    """A well-formed table: every table line has the column count of its header, and every
    ferry measurement is a number."""
    problems = []
    cols = None
    for line in md.splitlines():
        if line.startswith("|"):
            n = line.count("|")
            if cols is None:
                cols = n
            elif n != cols:
                problems.append("malformed table line: " + line)
        else:
            cols = None
    rowkey = {"get": "large", "put": "large", "small": "small", "conc": "conc",
              "lat_rps": "lat", "lat_p99": "lat", "idle_kib": "idle",
              "cpu_get": "cpu", "cpu_put": "cpu"}
    for row, key in rowkey.items():
        if not selected(b.args, key):
            continue
        vals = b.data.get(row, {}).get("ferry")
        if not vals:
            problems.append("no ferry figure for " + row)
        elif row.startswith("cpu_"):   # 0 is possible on a quick run (1/100 s resolution)
            if any(v is None or v != v or v < 0 for v in vals):
                problems.append("ferry figure missing or negative for " + row)
        elif any(v is None or v != v or v <= 0 for v in vals):
            problems.append("ferry figure missing or not positive for " + row)
    if b.args.only and "movers" in b.args.only:
        j = b.extra.get("movers")
        if not b.mover_exe:
            problems.append("movers asked for, but %s is not built" % b.args.mover_compare)
        elif not j or any(not m.get("gbps") or m.get("failed") for m in j["methods"]):
            problems.append("a mover failed or was not measured")
    return problems


RT = sys.modules[__name__]   # this module, for bench/tls_peers.py's use of its helpers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, one repeat")
    ap.add_argument("--repeats", type=int, help="repeats of every row (default: 7, slow rows fewer)")
    ap.add_argument("--ferry", default=str(REPO / "build" / "ferry"))
    ap.add_argument("--ferryd", default=str(REPO / "build" / "ferryd"))
    ap.add_argument("--load", help="the C++ client of the 500-client row (bench/ferry_load.cpp; "
                    "default: ferry-load beside --ferryd); when it is not built, ferry's row "
                    "uses the Python asyncio client")
    ap.add_argument("--mover-compare", help="the program of the movers rows "
                    "(bench/mover_compare.cpp; default: ferry-mover-compare beside --ferryd)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results"), help="output folder")
    ap.add_argument("--ferry-only", action="store_true", help="skip every peer")
    ap.add_argument("--only", nargs="*", choices=["large", "small", "conc", "lat", "idle", "cpu",
                                                  "movers", "tls"],
                    help="run only these rows (development); cpu = the large-file transfers, "
                    "for the servers' CPU per GiB; movers = ferry-mover-compare; tls = the TLS "
                    "rows against FTPS and sftp (bench/tls_peers.py)")
    ap.add_argument("--no-ferry-tls", dest="ferry_tls", action="store_false",
                    help="TLS rows: leave out ferry over TLS (ferryd --state-dir DIR, ferry --tls "
                    "--accept-new; bench/tls_peers.py), which they include by default")
    args = ap.parse_args()
    for exe in (args.ferry, args.ferryd):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s is not built (make build)" % exe)
    if args.load is None:
        args.load = str(Path(args.ferryd).parent / "ferry-load")
    if args.mover_compare is None:
        args.mover_compare = str(Path(args.ferryd).parent / "ferry-mover-compare")
    raise_fd_limit()
    b = Bench(args, QUICK if args.quick else FULL)

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        b.run()
        md = report(b, Path(args.out), args.quick)
    finally:
        b.cleanup()
    print(md)
    problems = check_table(md, b)
    if selected(args, "tls"):
        problems += tls_peers.check(b)
    ff = b.ferry_failed()
    for p in problems:
        print("bench: " + p, file=sys.stderr)
    for row, s, e in ff:
        print("bench: ferry failed on %s: %s" % (row, e.strip()[-500:]), file=sys.stderr)
    for s in b.skipped:
        print("bench: " + s, file=sys.stderr)
    print("bench: wrote %s/latest.md, latest.json%s" % (
        args.out, ", latest.png" if (Path(args.out) / "latest.png").exists() else ""),
        file=sys.stderr)
    sys.exit(1 if (problems or ff) else 0)


if __name__ == "__main__":
    main()
