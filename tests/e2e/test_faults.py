"""Fault injection (issue 4, section 3): clients and servers killed in the middle of an upload,
a full disk, a file replaced while it is read, SIGTERM during transfers, and descriptors and
memory after 10,000 sessions.

Every process killed here was started by the test and is killed by its PID. Every loop is
bounded in count and in time. test_transfer_security.py already covers a PUT cut off by a
close or a reset from a live client, a stalled PUT, and SIGTERM during a stalled PUT that the
stall timeout drops first; the cases here are the ones those do not reach.
"""

import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import ferrytest
from ferrytest import (FERRY, LOOPBACK, ServerTestCase, client_available, closed_by_peer,
                       read_head, read_to_eof, sha256, temporaries, transfer)

KIB = 1 << 10
MIB = 1 << 20


def say(text):
    """A line in the test's output (ctest shows it with --output-on-failure or -V)."""
    sys.stderr.write("  [faults] %s\n" % text)
    sys.stderr.flush()


def all_temporaries(root):
    """Temporary uploads anywhere under `root`, as paths relative to it."""
    found = []
    for dirpath, _, filenames in os.walk(root):
        found += [os.path.relpath(os.path.join(dirpath, name), root)
                  for name in filenames if name.startswith(ferrytest.TEMPORARY_PREFIX)]
    return found


def open_fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def open_fd_targets(pid):
    targets = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            targets.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass  # closed meanwhile
    return targets


def resident_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def put_head(name, size):
    return b"PUT\nFILENAME: %s\nFILESIZE: %d\n\n" % (name.encode(), size)


def slow_reader(port, rcvbuf=64 * KIB):
    """A transfer connection with a small receive buffer, so that a large GET stays under way
    (the server blocked in sendfile) for as long as the test does not read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(ferrytest.WAIT)
    sock.connect((LOOPBACK, port))
    return sock


# A client of its own, in a process the test kills: it asks for a port, starts a PUT of
# `size` bytes, sends `sent` of them, says so on stdout and waits (bounded) to be killed.
RAW_PUT_CLIENT = r"""
import socket, sys, time
port, name, size, sent = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
control = socket.create_connection(("127.0.0.1", port), timeout=5)
control.sendall(b"OPEN 0\n\n")
answer = b""
while not answer.endswith(b"\n\n"):
    chunk = control.recv(100)
    if not chunk:
        sys.exit("control closed: %r" % answer)
    answer += chunk
data_port = int(answer.split()[1])
conn = socket.create_connection(("127.0.0.1", data_port), timeout=5)
conn.sendall(b"PUT\nFILENAME: %s\nFILESIZE: %d\n\n" % (name.encode(), size))
conn.sendall(b"k" * sent)
print("sent", flush=True)
time.sleep(30)
"""


class FaultTestCase(ServerTestCase):
    def forget_server(self, server):
        """A server this test killed on purpose: teardown must not expect exit status 0."""
        self._servers.remove(server)
        server._reader.join(2.0)
        server.proc.stderr.close()

    def wait_for(self, predicate, timeout, what, step=0.01):
        value = self.wait_until(predicate, timeout=timeout, step=step)
        self.assertTrue(value, "%s within %.1f s" % (what, timeout))
        return value

    def start_process(self, args, **kwargs):
        proc = subprocess.Popen(args, **kwargs)

        def reap():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5.0)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        self.addCleanup(reap)
        return proc


# --------------------------------------------------------------------------- client killed

class ClientKilledTest(FaultTestCase):
    """SIGKILL to the client in the middle of a PUT: nothing under the target's name (or the
    older version, same inode), the temporary file gone within the stall timeout (2 s)."""

    STALL = 2
    ferryd_options = ("--transfer-timeout", str(STALL))

    def kill_and_check(self, proc, target, old, old_inode):
        folder = os.path.dirname(os.path.join(self.root, target))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5.0)
        killed = time.monotonic()
        self.wait_for(lambda: not temporaries(folder), self.STALL + 0.5,
                      "temporary file removed after the client was killed")
        gone_after = time.monotonic() - killed
        path = os.path.join(self.root, target)
        if old is None:
            self.assertFalse(os.path.lexists(path), "a file appeared under the target's name")
        else:
            with open(path, "rb") as f:
                self.assertEqual(sha256(f.read()), sha256(old), "the older version changed")
            self.assertEqual(os.stat(path).st_ino, old_inode)
        self.assertIsNotNone(self.server.wait_log(
            r"PUT \"%s\".*upload discarded" % re.escape(target)), self.server.log())
        # The server goes on: the same name can be uploaded now.
        head, _ = self.request(put_head(target, 3), b"new")
        self.assertEqual(head, b"OK\nFILESIZE: 3\n\n")
        self.assertEqual(self.read(target), b"new")
        return gone_after

    def raw_client(self, target, size, sent):
        proc = self.start_process(
            [sys.executable, "-c", RAW_PUT_CLIENT, str(self.port), target, str(size), str(sent)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = proc.stdout.readline()  # bounded: the child sleeps 30 s at most
        self.assertEqual(line, b"sent\n", proc.stderr.read() if proc.poll() is not None else b"")
        folder = os.path.dirname(os.path.join(self.root, target))
        # Killed once the server has stored what was sent: the upload is really under way.
        self.wait_for(lambda: any(os.path.getsize(os.path.join(folder, t)) >= sent
                                  for t in temporaries(folder)), 5.0, "the partial upload")
        return proc

    def test_raw_client_killed_mid_put_of_a_new_file(self):
        proc = self.raw_client("new.bin", 8 * MIB, 3 * MIB)
        took = self.kill_and_check(proc, "new.bin", None, None)
        say("raw client killed mid-PUT: temporary file gone %.3f s after the kill" % took)

    def test_raw_client_killed_mid_put_over_an_older_version(self):
        os.mkdir(os.path.join(self.root, "sub"))
        old = random.Random(1).randbytes(300 * KIB)
        path = self.write("sub/old.bin", old)
        proc = self.raw_client("sub/old.bin", 8 * MIB, 2 * MIB)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), old, "the target changed while the upload ran")
        self.kill_and_check(proc, "sub/old.bin", old, os.stat(path).st_ino)

    @unittest.skipUnless(client_available(), "the ferry client is not built")
    def test_ferry_client_killed_mid_put(self):
        # A sparse 4 GiB local file: the client cannot finish it in the moment the test needs
        # to see the upload under way, and it costs no disk on this side.
        local = os.path.join(self.base, "huge.bin")
        with open(local, "wb") as f:
            f.truncate(4 << 30)
        old = b"the older version\n" * 1000
        path = self.write("huge.bin", old)
        inode = os.stat(path).st_ino
        proc = self.start_process(
            [FERRY, "-q", LOOPBACK, str(self.port), "-c", "put huge.bin huge.bin"],
            cwd=self.base, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.wait_for(lambda: any(os.path.getsize(os.path.join(self.root, t)) >= MIB
                                  for t in temporaries(self.root)), 10.0,
                      "the client's upload under way", step=0.002)
        self.assertIsNone(proc.poll(), "the client finished before it could be killed")
        took = self.kill_and_check(proc, "huge.bin", old, inode)
        say("ferry client killed mid-PUT of 4 GiB: temporary file gone %.3f s after the kill"
            % took)


# --------------------------------------------------------------------------- server killed

class ServerKilledTest(FaultTestCase):
    """SIGKILL to ferryd in the middle of a PUT, then a restart on the same root."""

    def kill_server(self):
        self.server.kill()
        self.forget_server(self.server)

    def restart(self):
        self.server = self.start_server(self.ferryd_options)
        self.port = self.server.port

    def test_killed_mid_put_then_restarted(self):
        os.makedirs(os.path.join(self.root, "a/b"))
        old = random.Random(2).randbytes(200 * KIB)
        self.write("a/b/doc.bin", old)
        socks = []
        for target in ("new.bin", "a/b/doc.bin"):
            sock = self.connect(self.control().open("0"))
            sock.sendall(put_head(target, 16 * MIB) + b"z" * MIB)
            socks.append(sock)
        self.wait_for(lambda: len(all_temporaries(self.root)) == 2
                      and all(os.path.getsize(os.path.join(self.root, t)) >= MIB
                              for t in all_temporaries(self.root)), 5.0, "two uploads under way")
        leftovers = sorted(all_temporaries(self.root))
        self.kill_server()
        for sock in socks:
            self.assertIs(closed_by_peer(sock, timeout=2.0), True)
        self.assertFalse(os.path.lexists(os.path.join(self.root, "new.bin")))
        self.assertEqual(self.read("a/b/doc.bin"), old)
        self.assertEqual(sorted(all_temporaries(self.root)), leftovers)  # the killed server's

        self.restart()
        self.wait_for(lambda: not all_temporaries(self.root), 2.0,
                      "leftover temporary files removed at start")
        self.assertIsNotNone(self.server.wait_log(r"removed 2 unfinished upload"),
                             self.server.log())
        self.assertFalse(os.path.lexists(os.path.join(self.root, "new.bin")))
        self.assertEqual(self.read("a/b/doc.bin"), old)
        self.assertEqual(self.request("GET\nFILENAME: a/b/doc.bin\n\n"),
                         (b"OK\nFILESIZE: %d\n\n" % len(old), old))
        head, _ = self.request(put_head("new.bin", 4), b"done")
        self.assertEqual(head, b"OK\nFILESIZE: 4\n\n")

    def test_killed_at_random_moments_under_uploads_never_leaves_a_partial_file(self):
        """Four writers replace one file over and over with distinct versions; the server is
        killed at a random moment, also between the last byte and the rename. Whatever the
        moment, the target is one whole version and the restart removes the leftovers."""
        rng = random.Random(4)
        initial = rng.randbytes(100 * KIB)
        self.write("hot.bin", initial)
        versions = {sha256(initial)}
        lock = threading.Lock()
        rounds, left_behind, acknowledged = 6, 0, 0
        for round_ in range(rounds):
            stop = threading.Event()
            counts = []

            def writer(index, port=self.port):
                wrng = random.Random(round_ * 100 + index)
                done = 0
                for attempt in range(200):
                    if stop.is_set():
                        break
                    data = wrng.randbytes(wrng.randrange(64 * KIB, 2 * MIB))
                    with lock:
                        versions.add(sha256(data))
                    try:
                        control = ferrytest.Control(port, timeout=3.0)
                        try:
                            head, _ = transfer(control.open("0"),
                                               put_head("hot.bin", len(data)), data, timeout=3.0)
                        finally:
                            control.close()
                    except (OSError, AssertionError):
                        break  # the server died under it
                    if head == b"OK\nFILESIZE: %d\n\n" % len(data):
                        done += 1
                counts.append(done)
            threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(4)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.05, 0.6))
            self.kill_server()
            stop.set()
            for thread in threads:
                thread.join(10.0)
            self.assertFalse(any(t.is_alive() for t in threads))
            acknowledged += sum(counts)
            with open(os.path.join(self.root, "hot.bin"), "rb") as f:
                self.assertIn(sha256(f.read()), versions,
                              "round %d: the target is not one whole version" % round_)
            left_behind += len(temporaries(self.root))
            self.restart()
            self.wait_for(lambda: not temporaries(self.root), 2.0,
                          "round %d: leftovers removed at start" % round_)
        self.assertEqual(temporaries(self.root), [])
        say("server killed %d times under 4 writers (%d uploads acknowledged): target always "
            "whole, %d leftover temporary files, all removed at restart"
            % (rounds, acknowledged, left_behind))


# --------------------------------------------------------------------------- disk full

class DiskFullTest(FaultTestCase):
    """The served root on a tmpfs of 1 MiB mounted by the test."""

    def setUp(self):
        super().setUp()
        self.disk = os.path.join(self.base, "disk")
        os.mkdir(self.disk)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", self.disk],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (%s); the write failing midway is still "
                          "tested through RLIMIT_FSIZE (FileSizeLimitTest)"
                          % mounted.stderr.strip())
        # Runs after tearDown has stopped the servers that hold the mount busy.
        self.addCleanup(self.unmount)
        say("disk full: a tmpfs of size=1m mounted at %s" % self.disk)
        self.small_root = os.path.join(self.disk, "root")
        os.mkdir(self.small_root)
        self.small = self.start_server((), root=self.small_root)

    def unmount(self):
        if subprocess.run(["umount", self.disk]).returncode != 0:
            subprocess.run(["umount", "-l", self.disk])

    def small_request(self, text, data=b""):
        control = self.control(self.small.port)
        return transfer(control.open("0"), text, data)

    def assertServerFine(self):
        self.assertEqual(temporaries(self.small_root), [])
        head, _ = self.small_request(put_head("after.txt", 6), b"after\n")
        self.assertEqual(head, b"OK\nFILESIZE: 6\n\n")
        self.assertEqual(self.small_request("GET\nFILENAME: after.txt\n\n"),
                         (b"OK\nFILESIZE: 6\n\n", b"after\n"))

    def test_a_file_larger_than_the_free_space_is_refused_before_the_data(self):
        sock = self.connect(self.control(self.small.port).open("0"))
        sock.sendall(put_head("big.bin", 2 * MIB))  # the head only, no data yet
        head, _ = read_head(sock)
        self.assertError(head, rb"^no space left on device: big\.bin$")
        self.assertEqual(os.listdir(self.small_root), [])
        self.assertServerFine()

    @unittest.skipUnless(client_available(), "the ferry client is not built")
    def test_the_client_reports_the_full_disk(self):
        local = os.path.join(self.base, "local.bin")
        with open(local, "wb") as f:
            f.write(random.Random(5).randbytes(2 * MIB))
        result = ferrytest.run_client(["-q", "--timeout", "5", LOOPBACK, str(self.small.port),
                                       "-c", "put local.bin big.bin"], cwd=self.base)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("no space left on device", result.stderr)
        self.assertEqual(os.listdir(self.small_root), [])
        self.assertServerFine()

    def test_the_disk_filling_up_during_an_upload(self):
        """The PUT fits the free space when it starts; another writer fills the disk while
        its data arrives, and the server's write fails midway."""
        old = random.Random(6).randbytes(100 * KIB)
        with open(os.path.join(self.small_root, "doc.bin"), "wb") as f:
            f.write(old)
        size = 400 * KIB
        data = random.Random(7).randbytes(size)
        sock = self.connect(self.control(self.small.port).open("0"))
        sock.sendall(put_head("doc.bin", size) + data[:100 * KIB])
        self.wait_for(lambda: any(os.path.getsize(os.path.join(self.small_root, t)) >= 100 * KIB
                                  for t in temporaries(self.small_root)), 5.0,
                      "the upload under way")
        # The filler is on the same file system, outside the served root.
        filled = 0
        with open(os.path.join(self.disk, "filler"), "wb", buffering=0) as filler:
            for _ in range(1024):  # 4 MiB at most: the disk is 1 MiB
                try:
                    filled += filler.write(b"\0" * 4096)
                except OSError as e:
                    self.assertEqual(e.errno, 28)  # ENOSPC
                    break
            else:
                self.fail("the 1 MiB tmpfs did not fill up")
        sender = threading.Thread(target=self.send_quietly, args=(sock, data[100 * KIB:]),
                                  daemon=True)
        sender.start()
        head, _ = read_head(sock)
        self.assertError(head, rb"^no space left on device: doc\.bin$")
        self.assertIs(closed_by_peer(sock, timeout=5.0), True)
        sender.join(5.0)
        say("disk full midway: ERROR after the filler took the last %d KiB" % (filled // KIB))
        self.wait_for(lambda: not temporaries(self.small_root), 2.0, "temporary file removed")
        with open(os.path.join(self.small_root, "doc.bin"), "rb") as f:
            self.assertEqual(f.read(), old)
        os.unlink(os.path.join(self.disk, "filler"))
        self.assertServerFine()
        # With the space back, the same upload goes through.
        head, _ = self.small_request(put_head("doc.bin", size), data)
        self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % size)
        with open(os.path.join(self.small_root, "doc.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(data))

    @staticmethod
    def send_quietly(sock, data):
        try:
            sock.sendall(data)
        except OSError:
            pass  # the server answered and closed


class FileSizeLimitTest(FaultTestCase):
    """RLIMIT_FSIZE on the running ferryd (prlimit by PID): the free-space check passes and the
    write fails midway with EFBIG. Before ferryd ignored SIGXFSZ, this killed the server."""

    def test_a_write_past_the_file_size_limit(self):
        say("write failing midway: RLIMIT_FSIZE of 256 KiB set on ferryd %d" % self.server.proc.pid)
        resource.prlimit(self.server.proc.pid, resource.RLIMIT_FSIZE, (256 * KIB, 256 * KIB))
        old = b"old\n" * 1000
        self.write("doc.bin", old)
        data = random.Random(8).randbytes(MIB)
        head, _ = self.request(put_head("doc.bin", len(data)), data)
        self.assertError(head, rb"^file too large: doc\.bin$")
        self.assertIsNone(self.server.proc.poll(), "ferryd died: %r" % self.server.proc.returncode)
        self.wait_for(lambda: not temporaries(self.root), 2.0, "temporary file removed")
        self.assertEqual(self.read("doc.bin"), old)
        head, _ = self.request(put_head("small.txt", 5), b"small")
        self.assertEqual(head, b"OK\nFILESIZE: 5\n\n")
        self.assertEqual(self.request("GET\nFILENAME: small.txt\n\n"),
                         (b"OK\nFILESIZE: 5\n\n", b"small"))


# --------------------------------------------------------------------------- GET during PUT

class ReplacedWhileReadTest(FaultTestCase):
    SIZE = 8 * MIB  # more than the socket buffers hold, so the GET stays under way

    def test_a_get_in_flight_gets_the_whole_old_version(self):
        """Eight rounds: a GET is started and held after its first 64 KiB; a PUT replaces the
        file meanwhile (and is acknowledged); the GET then delivers the whole old version,
        and a new GET the whole new one."""
        current = random.Random(100).randbytes(self.SIZE)
        self.write("hot.bin", current)
        pid = self.server.proc.pid
        for round_ in range(8):
            control = self.control()
            reader = slow_reader(control.open("0"))
            self._sockets.append(reader)
            reader.sendall(b"GET\nFILENAME: hot.bin\n\n")
            head, rest = read_head(reader)
            self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % self.SIZE)
            rest = ferrytest.read_exact(reader, 64 * KIB, rest)
            replacement = random.Random(101 + round_).randbytes(self.SIZE)
            self.assertNotEqual(sha256(replacement), sha256(current))
            head, _ = transfer(control.open("0"), put_head("hot.bin", self.SIZE), replacement,
                               timeout=20.0)
            self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % self.SIZE, "round %d" % round_)
            # Proof the GET is still reading: ferryd holds the replaced, unlinked file open.
            self.assertTrue(any(t.endswith("/hot.bin (deleted)") for t in open_fd_targets(pid)),
                            "round %d: the GET was no longer under way" % round_)
            body = read_to_eof(reader, rest)
            reader.close()
            self.assertEqual(len(body), self.SIZE, "round %d" % round_)
            self.assertEqual(sha256(body), sha256(current), "round %d: not the old version"
                             % round_)
            self.assertEqual(sha256(self.request("GET\nFILENAME: hot.bin\n\n")[1]),
                             sha256(replacement), "round %d: not the new version" % round_)
            current = replacement
            control.close()

    def test_readers_and_a_writer_at_once(self):
        """Three readers GET a file over and over while a writer replaces it with twelve
        distinct versions: every GET is one whole version."""
        size = 2 * MIB
        initial = random.Random(200).randbytes(size)
        self.write("hot.bin", initial)
        versions = {sha256(initial)}
        lock = threading.Lock()
        done = threading.Event()
        seen = []
        errors = []

        def reader(index):
            control = ferrytest.Control(self.port)
            try:
                for _ in range(500):
                    if done.is_set():
                        break
                    head, body = transfer(control.open("0"), "GET\nFILENAME: hot.bin\n\n",
                                          timeout=10.0)
                    digest = sha256(body)
                    with lock:
                        if head != b"OK\nFILESIZE: %d\n\n" % size or len(body) != size \
                                or digest not in versions:
                            errors.append("reader %d: %r, %d bytes, not a version"
                                          % (index, head, len(body)))
                        seen.append(digest)
            except Exception as e:  # reported below
                errors.append("reader %d: %r" % (index, e))
            finally:
                control.close()

        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(3)]
        for thread in threads:
            thread.start()
        try:
            for number in range(12):
                data = random.Random(201 + number).randbytes(size)
                with lock:  # known before the rename can make it visible
                    versions.add(sha256(data))
                head, _ = self.request(put_head("hot.bin", size), data)
                self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % size)
                time.sleep(0.02)
        finally:
            done.set()
            for thread in threads:
                thread.join(20.0)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        say("GET during PUT: %d GETs of 2 MiB during 12 replacements saw %d distinct "
            "versions, each whole" % (len(seen), len(set(seen))))
        self.assertGreater(len(set(seen)), 1, "the readers never saw a replacement")


# --------------------------------------------------------------------------- SIGTERM

class ShutdownTest(FaultTestCase):
    """SIGTERM with a GET and a PUT under way (the default 30 s stall timeout, so that only
    the shutdown's 5 s grace period can end them)."""

    SIZE = 8 * MIB

    def start_transfers(self):
        self.big = random.Random(300).randbytes(self.SIZE)
        self.write("big.bin", self.big)
        self.old = b"old version\n" * 100
        self.write("doc.bin", self.old)
        self.new = random.Random(301).randbytes(4 * MIB)
        control = self.control()
        getter = slow_reader(control.open("0"))
        self._sockets.append(getter)
        getter.sendall(b"GET\nFILENAME: big.bin\n\n")
        head, rest = read_head(getter)
        self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % self.SIZE)
        rest = ferrytest.read_exact(getter, 64 * KIB, rest)
        putter = self.connect(control.open("0"))
        putter.sendall(put_head("doc.bin", len(self.new)) + self.new[:MIB])
        self.wait_for(lambda: any(os.path.getsize(os.path.join(self.root, t)) >= MIB
                                  for t in temporaries(self.root)), 5.0, "the upload under way")
        return getter, rest, putter

    def terminate(self):
        os.kill(self.server.proc.pid, signal.SIGTERM)
        self.assertIsNotNone(self.server.wait_log(r"received SIGTERM"), self.server.log())
        return time.monotonic()

    def test_running_transfers_finish_within_the_grace_period(self):
        getter, rest, putter = self.start_transfers()
        started = self.terminate()
        # No new sessions.
        with self.assertRaises(OSError):
            ferrytest.Control(self.port, timeout=1.0).answer()
        putter.sendall(self.new[MIB:])
        head, _ = read_head(putter)
        self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(self.new))
        body = read_to_eof(getter, rest)
        self.assertEqual((len(body), sha256(body)), (self.SIZE, sha256(self.big)))
        status = self.server.proc.wait(10.0)
        took = time.monotonic() - started
        self.assertEqual(status, 0, self.server.log())
        self.assertLess(took, 4.5, "the server waited for transfers that had finished")
        self.assertIsNone(self.server.wait_log(r"aborting", timeout=0.5))
        self.assertEqual(all_temporaries(self.root), [])
        self.assertEqual(sha256(self.read("doc.bin")), sha256(self.new))
        say("SIGTERM with a GET and a PUT under way: both finished, exit 0 after %.2f s" % took)

    def test_stalled_transfers_are_aborted_after_the_grace_period(self):
        getter, rest, putter = self.start_transfers()
        started = self.terminate()
        status = self.server.proc.wait(15.0)
        took = time.monotonic() - started
        self.assertEqual(status, 0, self.server.log())
        self.assertGreater(took, 4.5)
        self.assertLess(took, 8.0)
        self.assertIsNotNone(self.server.wait_log(r"aborting 2 transfer\(s\) still running"),
                             self.server.log())
        # The upload got no OK and was discarded; the reader got less than announced.
        try:
            answer = read_to_eof(putter)
        except OSError:
            answer = b""
        self.assertNotIn(b"OK", answer)
        body = read_to_eof(getter, rest)
        self.assertLess(len(body), self.SIZE)
        self.assertEqual(all_temporaries(self.root), [])
        self.assertEqual(self.read("doc.bin"), self.old)
        say("SIGTERM with a stalled GET and PUT: aborted, exit 0 after %.2f s" % took)

    def test_sigterm_as_soon_as_the_server_says_it_listens(self):
        """The listening line means ready: a SIGTERM right after it is an orderly stop (exit
        0). Before the handler was installed ahead of that line, a third of these died of the
        signal; with a handler, 1 in ~100 hung under ThreadSanitizer (the signal was lost),
        which the signalfd ended."""
        for attempt in range(50):
            server = ferrytest.Ferryd(self.root)
            os.kill(server.proc.pid, signal.SIGTERM)
            try:
                status = server.proc.wait(10.0)
            finally:
                server.stop()  # reaps it (and kills it if it hung)
            self.assertEqual(status, 0, "attempt %d:\n%s" % (attempt, server.log()))


# --------------------------------------------------------------------------- resources

class ResourceTest(FaultTestCase):
    """10,000 sessions, each with a transfer (LS, GET, PUT) or a fault (a PUT cut off, a port
    opened and never used, a control connection closed without QUIT), 8 at a time. ferryd's
    open descriptors and resident memory, measured after a warm-up of 1,000 such sessions,
    must come back to those values:

    - descriptors exactly (FD_SLACK = 0): every descriptor a session uses (control socket,
      transfer listener and socket, file) is closed when it ends, and nothing is cached
      between sessions, except the workers' splice pipes (pipe_pool.hpp): a worker grows its
      pool when PUTs overlap, up to 6 pipes (two descriptors each), so pipes are compared
      with that bound instead (a slow sanitizer build overlapped more PUTs after the warm-up
      than during it, and grew one);
    - resident memory within RSS_SLACK_KIB = 1 MiB: glibc keeps freed memory in its per-thread
      arenas instead of returning it, so RSS is the arenas' high-water mark, which the
      warm-up (the same mix, the same parallelism) reaches; measured growth over the 10,000
      is about 20 KiB. A leak of 105 bytes or more per session would exceed 1 MiB.
    """

    SESSIONS = int(os.environ.get("FERRY_FAULTS_SESSIONS", "10000"))
    WARM_UP = 1000
    PARALLEL = 8
    FD_SLACK = 0
    MAX_PIPES = 2 * 6  # the server's 2 workers (2 cores) with 6 pipes each at most
    RSS_SLACK_KIB = 1024
    ferryd_options = ("--log-level", "error", "--threads", "2")

    def one_session(self, index):
        kind = index % 6
        control = ferrytest.Control(self.port)
        try:
            port = control.open("0")
            if kind == 0:
                head, body = transfer(port, "LS\n\n")
                assert head == b"OK\n\n" and b"small.txt" in body, (head, body)
            elif kind == 1:
                assert transfer(port, "GET\nFILENAME: small.txt\n\n") == (
                    b"OK\nFILESIZE: 6\n\n", b"small\n")
            elif kind == 2:
                head, _ = transfer(port, put_head("up%d.txt" % (index % 50), 7), b"upload\n")
                assert head == b"OK\nFILESIZE: 7\n\n", head
            elif kind == 3:  # a PUT cut off after half its data
                sock = ferrytest.connect(port)
                sock.sendall(put_head("cut.bin", 4096) + b"h" * 2048)
                sock.close()
            elif kind == 4:  # a port nobody connects to, and one request on another
                control.open("0")
                assert transfer(port, "GET\nFILENAME: missing\n\n")[0].startswith(b"ERROR")
            if kind == 5:  # an unused port; the control connection just closes
                return
            assert control.request("QUIT\n\n") == b"BYE\n\n"
        finally:
            control.close()

    def run_sessions(self, first, count, deadline):
        lock = threading.Lock()
        numbers = iter(range(first, first + count))
        errors = []

        def worker():
            while time.monotonic() < deadline:
                with lock:
                    index = next(numbers, None)
                if index is None:
                    return
                try:
                    self.one_session(index)
                except Exception as e:  # reported below
                    errors.append("session %d: %r" % (index, e))
                    return
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.PARALLEL)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + 5.0)
        self.assertFalse(any(t.is_alive() for t in threads), "sessions still running")
        self.assertEqual(errors, [])
        self.assertIsNone(next(numbers, None), "not every session ran before the deadline")

    def settled(self, pid, fds):
        """Waits (2 s at most) for the server to close what the last sessions held."""
        self.wait_until(lambda: open_fd_count(pid) <= fds, timeout=2.0)
        time.sleep(0.2)
        return open_fd_count(pid), resident_kib(pid)

    def test_descriptors_and_memory_after_10000_sessions(self):
        self.write("small.txt", b"small\n")
        pid = self.server.proc.pid
        fds_at_start, rss_at_start = open_fd_count(pid), resident_kib(pid)
        deadline = time.monotonic() + 50.0
        self.run_sessions(0, self.WARM_UP, deadline)
        fds_before, rss_before = self.settled(pid, fds_at_start)
        targets_before = open_fd_targets(pid)
        started = time.monotonic()
        self.run_sessions(self.WARM_UP, self.SESSIONS, deadline)
        took = time.monotonic() - started
        fds_after, rss_after = self.settled(pid, fds_before)
        say("%d sessions in %.1f s: fds %d at start, %d after the warm-up, %d after; "
            "VmRSS %d KiB at start, %d KiB after the warm-up, %d KiB after (%+d KiB)"
            % (self.SESSIONS, took, fds_at_start, fds_before, fds_after, rss_at_start,
               rss_before, rss_after, rss_after - rss_before))
        pipes_before = sum(t.startswith("pipe:") for t in targets_before)
        targets_after = open_fd_targets(pid)
        pipes_after = sum(t.startswith("pipe:") for t in targets_after)
        self.assertLessEqual(abs((fds_after - pipes_after) - (fds_before - pipes_before)),
                             self.FD_SLACK, targets_after)
        self.assertLessEqual(pipes_after, 2 * self.MAX_PIPES, targets_after)
        # Under a sanitizer (scripts/ctest-sanitized.sh) RSS says nothing: ASan's quarantine
        # holds up to 256 MiB of freed memory on purpose, TSan's shadow grows with use; leaks
        # are LeakSanitizer's job there, at the server's exit.
        if not os.environ.get("FERRY_SANITIZED"):
            self.assertLessEqual(rss_after - rss_before, self.RSS_SLACK_KIB)
        self.assertEqual(all_temporaries(self.root), [])


if __name__ == "__main__":
    ferrytest.main()
