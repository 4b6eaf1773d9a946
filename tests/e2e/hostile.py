"""Shared part of the hostile-input tests (test_hostile_*.py): a test case with a secret
outside the served root and files inside it that must survive, a legitimate client's round
trip to run after each hostile step, and a sender that streams hostile bytes from a thread.

Not a test module itself (ctest runs tests/e2e/test_*.py only). Standard library only.
"""

import os
import random
import re
import select
import socket
import threading
import time

import ferrytest
from ferrytest import ServerTestCase, parse_listing, sha256, transfer


def tree_state(directory):
    """{relative path: (kind, size, mtime_ns, content digest or link target)} of a tree,
    directories included (their mtime changes when an entry is created or removed)."""
    state = {".": ("d", 0, os.lstat(directory).st_mtime_ns, None)}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, directory)
            st = os.lstat(path)
            if os.path.islink(path):
                state[rel] = ("l", st.st_size, st.st_mtime_ns, os.readlink(path))
            elif os.path.isdir(path):
                state[rel] = ("d", 0, st.st_mtime_ns, None)
            else:
                state[rel] = ("f", st.st_size, st.st_mtime_ns, ferrytest.file_sha256(path))
    return state


def temporaries_in_tree(directory):
    """Every unfinished upload (`.ferry-tmp-*`) anywhere under `directory`."""
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        found += [os.path.join(dirpath, n) for n in filenames
                  if n.startswith(ferrytest.TEMPORARY_PREFIX)]
    return found


class Stream:
    """Sends `payload` on `sock` from a thread (in `chunk`-byte pieces, `pause` s apart) while
    the caller reads; records how much went out and how the sending ended."""

    def __init__(self, sock, payload, chunk=64 * 1024, pause=0.0):
        self.sock = sock
        self.sent = 0
        self.error = None
        self.done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(payload, chunk, pause),
                                        daemon=True)
        self._thread.start()

    def _run(self, payload, chunk, pause):
        try:
            for start in range(0, len(payload), chunk):
                if self._stop.is_set():
                    break
                self.sock.sendall(payload[start:start + chunk])
                self.sent = start + len(payload[start:start + chunk])
                if pause:
                    self._stop.wait(pause)
        except OSError as e:
            self.error = e
        finally:
            self.done.set()

    def stop(self, timeout=5.0):
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()


def drip(sock, payload, interval=1.0, limit=10.0):
    """Slowloris: one byte of `payload` every `interval` s until the peer closes. Returns
    (seconds from the first byte to the close, bytes sent, what the peer said)."""
    started = time.monotonic()
    sent = 0
    said = b""
    while time.monotonic() - started < limit:
        if sent < len(payload):
            try:
                sock.send(payload[sent:sent + 1])
            except OSError:
                return time.monotonic() - started, sent, said
            sent += 1
        next_byte = time.monotonic() + interval
        while time.monotonic() < next_byte:
            ready, _, _ = select.select([sock], [], [], max(0.0, next_byte - time.monotonic()))
            if ready:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    return time.monotonic() - started, sent, said
                said += chunk
    return None, sent, said


def read_until_closed(sock, timeout=5.0, limit=1 << 20):
    """(bytes received, closed) reading until the peer closes (EOF or reset) or `timeout` s
    pass; closed is False when the connection was still open at the end."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        except socket.timeout:
            return data, False
        if not chunk:
            return data, True
        data += chunk
    return data, False


class HostileTestCase(ServerTestCase):
    """`outside` holds a secret marker (its exact state is checked at teardown: names, sizes,
    mtimes, contents, directories' mtimes); `root` holds files that must survive everything
    (checked by `assert_serves` and at teardown)."""

    def setUp(self):
        super().setUp()
        rng = random.Random()
        self.secret = b"OUTSIDE-SECRET-%016x\n" % rng.getrandbits(64)
        with open(os.path.join(self.outside, "secret.txt"), "wb") as f:
            f.write(self.secret * 64)
        os.mkdir(os.path.join(self.outside, "dir"))
        with open(os.path.join(self.outside, "dir", "secret.txt"), "wb") as f:
            f.write(self.secret)
        # A file beside root and outside, reachable by a plain `../x`.
        with open(os.path.join(self.base, "x"), "wb") as f:
            f.write(self.secret)
        self.keep = {"keep.bin": random.Random(11).randbytes(300 * 1024),
                     "sub/keep.txt": b"inside content that must survive\n"}
        os.mkdir(os.path.join(self.root, "sub"))
        for name, data in self.keep.items():
            self.write(name, data)
        self.legit_count = 0
        self.outside_before = tree_state(self.outside)
        self.base_before = sorted(os.listdir(self.base))

    def tearDown(self):
        try:
            self.assert_outside_untouched()
            self.assertEqual(sorted(os.listdir(self.base)), self.base_before)
            for name, data in self.keep.items():
                self.assertEqual(sha256(self.read(name)), sha256(data), name)
            self.wait_until(lambda: not temporaries_in_tree(self.root), 3.0)
            self.assertEqual(temporaries_in_tree(self.root), [])
        finally:
            super().tearDown()

    def assert_outside_untouched(self):
        self.assertEqual(tree_state(self.outside), self.outside_before)

    def assert_no_secret(self, data, what=""):
        self.assertNotIn(self.secret.strip(), data, "outside content read: %s" % what)

    def assert_serves(self, port=None, source=None):
        """A legitimate client's PUT, GET and LS on a fresh session, each checked byte for
        byte, and the files that must survive still whole."""
        port = port or self.port
        self.legit_count += 1
        name = "legit-%d.bin" % self.legit_count
        data = random.Random(self.legit_count).randbytes(64 * 1024 + self.legit_count)
        control = ferrytest.Control(port, source=source)
        try:
            head, body = transfer(control.open("0"), "PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                  % (name, len(data)), data, source=source)
            self.assertEqual((head, body), (b"OK\nFILESIZE: %d\n\n" % len(data), b""))
            head, body = transfer(control.open("0"), "GET\nFILENAME: %s\n\n" % name,
                                  source=source)
            self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(data))
            self.assertEqual(sha256(body), sha256(data))
            for keep, content in self.keep.items():
                head, body = transfer(control.open("0"), "GET\nFILENAME: %s\n\n" % keep,
                                      source=source)
                self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(content))
                self.assertEqual(sha256(body), sha256(content), keep)
            head, body = transfer(control.open("0"), "LS\n\n", source=source)
            self.assertEqual(head, b"OK\n\n")
            listed = {e[3]: e[1] for e in parse_listing(body)}
            self.assertEqual(listed.get(name.encode()), len(data))
            self.assertEqual(listed.get(b"keep.bin"), len(self.keep["keep.bin"]))
            self.assertEqual(control.request("QUIT\n\n"), b"BYE\n\n")
        finally:
            control.close()
        os.unlink(os.path.join(self.root, name))

    def assertClosedWithError(self, sock, pattern=rb".+", buffer=b"", timeout=5.0):
        """The peer answers `ERROR <pattern>` (one head, nothing after it) and closes."""
        data, closed = read_until_closed(sock, timeout)
        data = buffer + data
        self.assertTrue(closed, "connection still open after %s s; got %r" % (timeout, data[:200]))
        match = re.fullmatch(rb"ERROR (.*)\n\n", data)
        self.assertTrue(match, "expected one ERROR answer, got %r" % data[:300])
        self.assertRegex(match.group(1), pattern)
        return match.group(1)
