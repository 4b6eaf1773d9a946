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
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    return parser.parse_args()


class Server:
    def __init__(self, ferryd, root, state):
        self.proc = subprocess.Popen(
            [ferryd, "0", "--root", root, "--bind", LOOPBACK, "--state-dir", state,
             "--max-sessions", "20000", "--max-sessions-per-ip", "0", "--idle-timeout", "600",
             "--log-level", "warn"],
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


def main():
    args = parse_arguments()
    args.ferry = os.path.abspath(args.ferry)
    args.ferryd = os.path.abspath(args.ferryd)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sessions = min(args.sessions, hard - 200)
    work = tempfile.mkdtemp(prefix="ferry-bench-tls-")
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
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
