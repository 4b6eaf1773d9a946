#!/usr/bin/env python3
"""What TLS costs ferryd per session and per connection (issue 9). Run by hand or from
`make bench` (bench/run.py --only tls):

    python3 -B bench/tls_sessions.py --ferryd build/ferryd --ferry build/ferry

1. Idle sessions: --sessions (10,000) control connections held open at once, first in
   plaintext (each sent FEATURES and got its answer), then over TLS (handshake done, one
   FEATURES answered); ferryd's VmRSS before and after, per session.
2. Handshakes: --handshakes (500) TLS control connections made one after another, each
   with a full handshake, then each resuming the session of the first (a ticket); the
   median time from connect to the first answer.
3. Small files: --files (2,000) GETs of 1 KiB files in one ferry session (a script), over
   TLS and in plaintext (--plain): files/s, --repeats (3) times, median.
4. Logins: --logins (200) TLS sessions send a correct LOGIN at once to a ferryd with
   --users (Argon2id checks, at most two at a time): the time to the last OK; meanwhile a
   logged-in neighbour GETs a 1 KiB file again and again: its latency, median and max.
Every server binds to 127.0.0.1; every wait has a timeout; what it started it stops by PID.
Standard library only. Prints a table and writes JSON to --out.
"""

import argparse
import json
import os
import re
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

LOOPBACK = "127.0.0.1"
LISTEN_RE = re.compile(r"listening on \S+:(\d+)")
FINGERPRINT_RE = re.compile(r"TLS key fingerprint (SHA256:\S+)")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ferryd", required=True)
    parser.add_argument("--ferry", required=True)
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--handshakes", type=int, default=500)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    return parser.parse_args()


class Server:
    def __init__(self, ferryd, root, state, extra=()):
        self.proc = subprocess.Popen(
            [ferryd, "0", "--root", root, "--bind", LOOPBACK, "--state-dir", state,
             "--max-sessions", "20000", "--max-sessions-per-ip", "0", "--idle-timeout", "600",
             "--log-level", "warn", *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        self.port = None
        self.fingerprint = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (self.port is None or self.fingerprint is None):
            line = self.proc.stderr.readline()
            if not line:
                break
            if LISTEN_RE.search(line):
                self.port = int(LISTEN_RE.search(line).group(1))
            if FINGERPRINT_RE.search(line):
                self.fingerprint = FINGERPRINT_RE.search(line).group(1)
        if self.port is None:
            self.stop()
            raise RuntimeError("ferryd did not start")

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def client_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def features(sock):
    sock.sendall(b"FEATURES\n\n")
    data = b""
    while b"\n\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("closed")
        data += chunk
    return data


def idle_sessions(server, count, tls):
    context = client_context()
    held = []
    before = server.rss_kib()
    try:
        for _ in range(count):
            sock = socket.create_connection((LOOPBACK, server.port), timeout=10)
            if tls:
                sock = context.wrap_socket(sock, server_hostname=LOOPBACK)
            features(sock)
            held.append(sock)
        time.sleep(0.5)
        after = server.rss_kib()
    finally:
        for sock in held:
            sock.close()
    return {"sessions": count, "rss_before_kib": before, "rss_after_kib": after,
            "per_session_bytes": round((after - before) * 1024 / count)}


def handshakes(server, count):
    context = client_context()
    first = context.wrap_socket(socket.create_connection((LOOPBACK, server.port), timeout=10),
                                server_hostname=LOOPBACK)
    features(first)  # the ticket has arrived with the answer
    session = first.session
    first.close()
    results = {}
    for name, resume in (("full", None), ("resumed", session)):
        times = []
        reused = 0
        for _ in range(count):
            start = time.perf_counter()
            sock = context.wrap_socket(
                socket.create_connection((LOOPBACK, server.port), timeout=10),
                server_hostname=LOOPBACK, session=resume)
            features(sock)
            times.append(time.perf_counter() - start)
            reused += 1 if sock.session_reused else 0
            sock.close()
        results[name] = {"median_ms": round(statistics.median(times) * 1000, 3),
                         "resumed": reused, "of": count}
    return results


def small_files(args, server, root, work):
    names = ["s%04d.bin" % i for i in range(args.files)]
    for name in names:
        with open(os.path.join(root, name), "wb") as f:
            f.write(os.urandom(1024))
    script = "".join("get %s\n" % name for name in names)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(work, "config"))
    results = {}
    for mode, flags in (("tls", ["--fingerprint", server.fingerprint]), ("plaintext", ["--plain"])):
        rates = []
        for _ in range(args.repeats):
            target = tempfile.mkdtemp(dir=work)
            start = time.perf_counter()
            done = subprocess.run([args.ferry, "-q"] + flags + [LOOPBACK, str(server.port)],
                                  input=script, text=True, cwd=target, env=env,
                                  capture_output=True, timeout=300)
            took = time.perf_counter() - start
            if done.returncode != 0 or len(os.listdir(target)) != args.files:
                raise RuntimeError("small GETs failed: " + done.stderr[-500:])
            rates.append(args.files / took)
            shutil.rmtree(target)
        results[mode] = {"files_per_s": round(statistics.median(rates)),
                         "runs": [round(r) for r in rates]}
    results["tls_over_plaintext"] = round(results["tls"]["files_per_s"] /
                                          results["plaintext"]["files_per_s"], 2)
    return results


def read_answer(sock, buffer=b""):
    while b"\n\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        buffer += chunk
    head, rest = buffer.split(b"\n\n", 1)
    return head + b"\n\n", rest


def tls_session(port, context):
    return context.wrap_socket(socket.create_connection((LOOPBACK, port), timeout=60),
                               server_hostname=LOOPBACK)


def log_in(sock, password):
    """True for OK, False for `ERROR server busy` (ferryd's bound: 2 checks and 64 waiting)."""
    sock.sendall(b"LOGIN\nUSER: bench\nPASSWORD: " + password + b"\n\n")
    head, _ = read_answer(sock)
    if head.startswith(b"ERROR server busy"):
        return False
    if head != b"OK\n\n":
        raise RuntimeError("login refused: %r" % head)
    return True


def neighbour_get(control, context, port):
    control.sendall(b"OPEN 0\nTOKEN: yes\n\n")
    head, _ = read_answer(control)
    lines = head.decode().split("\n")
    data_port = int(lines[0].split()[1])
    token = [l.split(": ", 1)[1] for l in lines if l.startswith("TOKEN: ")][0]
    transfer = context.wrap_socket(socket.create_connection((LOOPBACK, data_port), timeout=60),
                                   server_hostname=LOOPBACK, session=control.session)
    transfer.sendall(("GET\nFILENAME: n.bin\nTOKEN: %s\n\n" % token).encode())
    head, rest = read_answer(transfer)
    while len(rest) < 1024:
        chunk = transfer.recv(65536)
        if not chunk:
            break
        rest += chunk
    transfer.close()
    if not head.startswith(b"OK") or len(rest) != 1024:
        raise RuntimeError("neighbour GET failed: %r" % head)


def login_flood(args, work):
    import threading
    root = os.path.join(work, "users-root")
    os.mkdir(root)
    with open(os.path.join(root, "n.bin"), "wb") as f:
        f.write(os.urandom(1024))
    users = os.path.join(work, "users")
    password = b"correct horse battery staple"
    subprocess.run([args.ferryd, "adduser", users, "bench"], input=password + b"\n",
                   check=True, capture_output=True, timeout=60)
    server = Server(args.ferryd, root, os.path.join(work, "state-users"), ["--users", users])
    context = client_context()
    try:
        neighbour = tls_session(server.port, context)
        log_in(neighbour, password)
        latencies, stop, errors = [], threading.Event(), []

        def neighbour_loop():
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    neighbour_get(neighbour, context, server.port)
                except Exception as e:  # reported below
                    errors.append(repr(e))
                    return
                latencies.append(time.perf_counter() - start)
                time.sleep(0.01)

        sessions = [tls_session(server.port, context) for _ in range(args.logins)]
        answered, busy = [], []
        go = threading.Event()

        def one(sock):
            go.wait()
            try:
                (answered if log_in(sock, password) else busy).append(time.perf_counter())
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=one, args=(sock,)) for sock in sessions]
        for thread in threads:
            thread.start()
        watcher = threading.Thread(target=neighbour_loop)
        watcher.start()
        time.sleep(1.0)
        quiet = list(latencies)
        start = time.perf_counter()
        go.set()
        for thread in threads:
            thread.join(300)
        last = max(answered) - start if answered else None
        during = latencies[len(quiet):]
        stop.set()
        watcher.join(30)
        for sock in sessions:
            sock.close()
        neighbour.close()
        if errors:
            raise RuntimeError("login flood: " + "; ".join(errors[:3]))
        return {"logins": args.logins, "ok": len(answered), "busy": len(busy),
                "seconds_to_last_busy": round(max(busy) - start, 3) if busy else None,
                "seconds_to_last_ok": round(last, 3) if last is not None else None,
                "neighbour_gets_during": len(during),
                "neighbour_quiet_median_ms": round(statistics.median(quiet) * 1000, 2)
                if quiet else None,
                "neighbour_median_ms": round(statistics.median(during) * 1000, 2) if during else None,
                "neighbour_max_ms": round(max(during) * 1000, 2) if during else None,
                "rss_after_kib": server.rss_kib()}
    finally:
        server.stop()


def main():
    args = parse_arguments()
    args.ferry = os.path.abspath(args.ferry)
    args.ferryd = os.path.abspath(args.ferryd)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sessions = min(args.sessions, hard - 200)
    # On tmpfs where there is one: the small GETs measure the network, not the disk's fsync.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="ferry-bench-tls-", dir=shm)
    root = os.path.join(work, "root")
    os.mkdir(root)
    server = Server(args.ferryd, root, os.path.join(work, "state"))
    try:
        result = {
            "date": time.strftime("%Y-%m-%d"),
            "kernel": os.uname().release,
            "idle_plaintext": idle_sessions(server, sessions, tls=False),
            "idle_tls": idle_sessions(server, sessions, tls=True),
            "handshakes": handshakes(server, args.handshakes),
            "small_gets": small_files(args, server, root, work),
        }
        server.stop()
        result["logins"] = login_flood(args, work)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    idle_p, idle_t = result["idle_plaintext"], result["idle_tls"]
    print("idle control sessions (%d held): plaintext %d B each, TLS %d B each" %
          (sessions, idle_p["per_session_bytes"], idle_t["per_session_bytes"]))
    hs = result["handshakes"]
    print("TLS handshake + FEATURES, median of %d: full %.3f ms, resumed %.3f ms (%d/%d resumed)"
          % (args.handshakes, hs["full"]["median_ms"], hs["resumed"]["median_ms"],
             hs["resumed"]["resumed"], hs["resumed"]["of"]))
    sg = result["small_gets"]
    print("%d GETs of 1 KiB in one session: TLS %d files/s, plaintext %d files/s (%.2fx)" %
          (args.files, sg["tls"]["files_per_s"], sg["plaintext"]["files_per_s"],
           sg["tls_over_plaintext"]))
    lf = result["logins"]
    print("%d LOGINs at once: %d OK, the last after %.2f s, %d answered busy (the last after "
          "%s s); a neighbour's 1 KiB GET (a TLS transfer connection each) meanwhile: median "
          "%.2f ms, max %.2f ms (%d GETs; %s ms before the flood); ferryd VmRSS after %d KiB" %
          (lf["logins"], lf["ok"], lf["seconds_to_last_ok"], lf["busy"],
           lf["seconds_to_last_busy"], lf["neighbour_median_ms"], lf["neighbour_max_ms"],
           lf["neighbour_gets_during"], lf["neighbour_quiet_median_ms"], lf["rss_after_kib"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
