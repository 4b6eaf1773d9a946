"""Hostile messages end to end, on control and transfer connections: a head that never ends,
1 MiB of binary garbage, 10,000 headers, a header line of 100 KiB, FILESIZE negative, huge,
non-numeric and duplicated, fewer or more data bytes than FILESIZE. Then the client facing a
malicious server: one that goes silent after OPENED, sends garbage instead of a head, or
names paths with `../`.

Each server case checks that the offender gets a clear ERROR and the close (or, for data
that stops short, the close without OK), that no file appears and an older one stays whole,
and that a legitimate client is served afterwards with nothing lost (`assert_serves`).
(The 8 KiB limit byte for byte, 65 header lines and the first FILESIZE forms on a PUT are in
test_protocol_raw.py; these are the floods, and the same checks on every verb and on the
control connection.)
"""

import os
import random
import re
import socket
import sys
import tempfile
import threading
import time
import unittest

import ferrytest
from ferrytest import read_head, read_to_eof, sha256
from hostile import HostileTestCase, Stream, read_until_closed, temporaries_in_tree

HEAD_TOO_LONG = rb"^message head too long \(limit 8192 bytes\)$"
BAD_FILESIZE = rb"^malformed message: FILESIZE must be decimal digits, at most 2\^63-1$"

# Floods: (name, payload, what the ERROR says). `{verb}` is the start of a request head.
FLOODS = [
    ("no empty line ever, 1 KiB header lines",
     b"{verb}" + b"".join(b"X-Line-%04d: %s\n" % (i, b"v" * 1000) for i in range(1000)),
     HEAD_TOO_LONG),
    ("no empty line ever, one endless line", b"{verb}X-Endless: " + b"e" * (1 << 20),
     HEAD_TOO_LONG),
    ("10,000 headers", b"{verb}" + b"".join(b"X-%d: 1\n" % i for i in range(10000)) + b"\n",
     HEAD_TOO_LONG),
    ("a header line of 100 KiB", b"{verb}X-Big: " + b"b" * (100 << 10) + b"\n\n",
     HEAD_TOO_LONG),
    ("1 MiB of binary garbage", random.Random(1).randbytes(1 << 20), rb"^(message head too long|malformed message)"),
    ("1 MiB of 0xff", b"\xff" * (1 << 20), HEAD_TOO_LONG),
    ("1 MiB of NUL", b"\x00" * (1 << 20), HEAD_TOO_LONG),
    ("1 MiB of garbage after a valid start",
     b"{verb}" + random.Random(2).randbytes(1 << 20), rb"^(message head too long|malformed message)"),
    ("no empty line ever, 1 MiB of stray CRs and CRLFs", b"{verb}" + b"\r\r\n\r" * (1 << 18),
     HEAD_TOO_LONG),
]

# FILESIZE values that make any message malformed.
BAD_SIZES = [b"-1", b"-0", b"+5", b"9223372036854775808", b"18446744073709551616",
             b"99999999999999999999999999999999", b"1e3", b"0x10", b"5 5", b"\xef\xbc\x95",
             b"5\t", b"", b"NaN", b"12a"]


class FloodTest(HostileTestCase):
    ferryd_options = ("--transfer-timeout", "3")

    def flood(self, sock, payload, pattern):
        """Streams `payload` from a thread; the server must answer ERROR `pattern` and close
        without waiting for the rest (on a transfer connection after reading and dropping at
        most 2 s of it)."""
        started = time.monotonic()
        stream = Stream(sock, payload)
        message = self.assertClosedWithError(sock, pattern, timeout=4.0)
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertTrue(stream.stop())
        return message

    def test_floods_on_transfer_connections(self):
        for verb in (b"GET\nFILENAME: keep.bin\n", b"PUT\nFILENAME: keep.bin\nFILESIZE: 5\n",
                     b"LS\n"):
            for name, payload, pattern in FLOODS:
                with self.subTest(verb=verb.split(b"\n")[0], case=name):
                    control = self.control()
                    sock = self.connect(control.open("0"))
                    self.flood(sock, payload.replace(b"{verb}", verb), pattern)
                    # The control connection is unharmed.
                    self.assertRegex(control.request("OPEN 0\n\n"), rb"^OPENED \d+\n\n$")
        self.assertEqual(sorted(os.listdir(self.root)), ["keep.bin", "sub"])
        self.assertIsNotNone(self.server.wait_log(
            r'warning session \d+: - "" 0 bytes in [\d.]+ s: message head too long'))
        self.assert_serves()

    def test_floods_on_control_connections(self):
        for name, payload, pattern in FLOODS:
            with self.subTest(case=name):
                control = self.control()
                # A working session first: its flood must end it, and only it.
                port = control.open("0")
                self.flood(control.sock, payload.replace(b"{verb}", b"OPEN 0\n"), pattern)
        self.assertIsNotNone(self.server.wait_log(
            r"session \d+: ended after [\d.]+ s, 0 transfer\(s\): message head too long"))
        self.assert_serves()

    def test_floods_in_parallel_with_legitimate_clients(self):
        """Ten flooding connections at once (control and transfer), while a legitimate
        client goes on: every flood refused, every legitimate transfer whole."""
        errors = []

        def flooder(index):
            try:
                control = ferrytest.Control(self.port)
                if index % 2:
                    sock = ferrytest.connect(control.open("0"))
                else:
                    sock = control.sock
                stream = Stream(sock, b"X" * (4 << 20), chunk=16 * 1024)
                data, closed = read_until_closed(sock, 4.0)
                assert closed and re.fullmatch(rb"ERROR message head too long .*\n\n", data), data
                stream.stop()
                sock.close()
                control.close()
            except Exception as e:  # reported below
                errors.append("flooder %d: %r" % (index, e))
        threads = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(10)]
        for thread in threads:
            thread.start()
        for _ in range(3):
            self.assert_serves()
        for thread in threads:
            thread.join(8.0)
        self.assertEqual(errors, [])
        self.assertFalse([t for t in threads if t.is_alive()])


class FileSizeTest(HostileTestCase):
    ferryd_options = ("--transfer-timeout", "2")

    def test_malformed_filesize_on_every_verb_and_on_control(self):
        old = self.read("keep.bin")
        for value in BAD_SIZES:
            for request in (b"PUT\nFILENAME: keep.bin\nFILESIZE: %s\n\n12345",
                            b"PUT\nFILENAME: fresh.bin\nFILESIZE: %s\n\n12345",
                            b"GET\nFILENAME: keep.bin\nFILESIZE: %s\n\n",
                            b"LS\nFILESIZE: %s\n\n"):
                with self.subTest(value=value, request=request[:20]):
                    control = self.control()
                    sock = self.connect(control.open("0"))
                    sock.sendall(request.replace(b"%s", value))
                    self.assertClosedWithError(
                        sock, rb"^malformed message: (FILESIZE must be|not UTF-8|control char)")
            with self.subTest(value=value, connection="control"):
                control = self.control()
                control.sock.sendall(b"OPEN 0\nFILESIZE: %s\n\n" % value)
                self.assertClosedWithError(control.sock, rb"^malformed message: ")
        self.assertEqual(self.read("keep.bin"), old)
        self.assertFalse(os.path.exists(os.path.join(self.root, "fresh.bin")))
        self.assert_serves()

    def test_duplicated_filesize(self):
        for sizes in ((b"5", b"5"), (b"5", b"6"), (b"0", b"1000000")):
            for names in ((b"FILESIZE", b"FILESIZE"), (b"FILESIZE", b"filesize"),
                          (b"FileSize", b"FILESIZE")):
                with self.subTest(sizes=sizes, names=names):
                    control = self.control()
                    sock = self.connect(control.open("0"))
                    sock.sendall(b"PUT\nFILENAME: keep.bin\n%s: %s\n%s: %s\n\n12345"
                                 % (names[0], sizes[0], names[1], sizes[1]))
                    self.assertClosedWithError(sock, rb"^malformed message: repeated header "
                                                     rb"(?i:filesize)$")
                    control.sock.sendall(b"OPEN 0\n%s: %s\n%s: %s\n\n"
                                         % (names[0], sizes[0], names[1], sizes[1]))
                    self.assertClosedWithError(control.sock, rb"^malformed message: repeated")
        self.assertEqual(sorted(os.listdir(self.root)), ["keep.bin", "sub"])
        self.assert_serves()

    def test_huge_filesize_is_refused_before_the_data(self):
        for size in (b"9223372036854775807", b"1000000000000000"):
            with self.subTest(size=size):
                control = self.control()
                sock = self.connect(control.open("0"))
                sock.sendall(b"PUT\nFILENAME: keep.bin\nFILESIZE: %s\n\n" % size + b"x" * 1000)
                self.assertClosedWithError(sock, rb"^(no space left on device|file too large): "
                                                 rb"keep\.bin$")
        self.assertEqual(temporaries_in_tree(self.root), [])
        self.assert_serves()

    def test_fewer_bytes_than_filesize_then_the_close(self):
        """The client announces 1 MB, sends 5,000 bytes and half-closes (or closes): no OK,
        no file under the name, the older one whole, the temporary file gone."""
        for target, how in (("keep.bin", "half-close"), ("fresh.bin", "half-close"),
                            ("keep.bin", "close"), ("sub/fresh.bin", "close")):
            with self.subTest(target=target, how=how):
                control = self.control()
                sock = self.connect(control.open("0"))
                sock.sendall(b"PUT\nFILENAME: %s\nFILESIZE: 1000000\n\n" % target.encode()
                             + b"y" * 5000)
                if how == "close":
                    sock.close()
                else:
                    sock.shutdown(socket.SHUT_WR)
                    data, closed = read_until_closed(sock, 4.0)
                    self.assertEqual((data, closed), (b"", True))
                self.assertIsNotNone(self.server.wait_log(
                    r'PUT "%s" 5000 bytes .*connection closed after 5000 of 1000000 bytes; '
                    r"upload discarded" % re.escape(target)))
                self.assertTrue(self.wait_until(lambda: not temporaries_in_tree(self.root)))
                self.assertFalse(os.path.exists(os.path.join(self.root, "fresh.bin")))
                self.assertFalse(os.path.exists(os.path.join(self.root, "sub/fresh.bin")))
        self.assert_serves()

    def test_more_bytes_than_filesize(self):
        """Extra bytes behind the data in the same stream, small and large, onto an existing
        file and a new one: ERROR, nothing stored, the older file whole."""
        for size, extra in ((0, 1), (5, 5), (1000003, 1), (1000003, 1 << 20), (300000, 70000)):
            for target in ("keep.bin", "fresh.bin"):
                with self.subTest(size=size, extra=extra, target=target):
                    data = random.Random(size).randbytes(size + extra)
                    control = self.control()
                    sock = self.connect(control.open("0"))
                    stream = Stream(sock, b"PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                    % (target.encode(), size) + data, chunk=len(data) + 100)
                    self.assertClosedWithError(
                        sock, rb"^more data than FILESIZE announced(: %s)?$" % target.encode())
                    self.assertTrue(stream.stop())
                    self.assertTrue(self.wait_until(lambda: not temporaries_in_tree(self.root)))
                    self.assertFalse(os.path.exists(os.path.join(self.root, "fresh.bin")))
        self.assert_serves()


# --------------------------------------------------------------------------- the client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_client_fake_server import FakeServer  # noqa: E402  (the fake server, reused)


def wait_for_eof(conn, limit=10.0):
    """Keeps a transfer connection open, saying nothing, until the client leaves."""
    conn.settimeout(limit)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


class ClientFacingHostileServerTest(unittest.TestCase):
    """The ferry client against a fake server that goes silent, sends garbage, or names
    paths out of the client's folder (the cases test_client_fake_server.py does not have)."""

    def setUp(self):
        if not ferrytest.client_available():
            self.skipTest("no ferry client at %s" % ferrytest.FERRY)
        self.tmp = tempfile.TemporaryDirectory()
        self.base = self.tmp.name
        self.work = os.path.join(self.base, "work")
        os.mkdir(self.work)
        with open(os.path.join(self.work, "local.bin"), "wb") as f:
            f.write(b"local data\n" * 1000)
        with open(os.path.join(self.work, "old.txt"), "wb") as f:
            f.write(b"old content")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()
        self.tmp.cleanup()

    def serve(self, **kwargs):
        self.server = FakeServer(**kwargs)
        return self.server

    def ferry(self, commands, timeout="0.5"):
        started = time.monotonic()
        result = ferrytest.run_client(["--timeout", timeout, "127.0.0.1", str(self.server.port),
                                       "-c", commands], cwd=self.work, timeout=20)
        return result, time.monotonic() - started

    def assertNothingWritten(self):
        self.assertEqual(sorted(os.listdir(self.work)), ["local.bin", "old.txt"])
        self.assertEqual(sorted(os.listdir(self.base)), ["work"])
        with open(os.path.join(self.work, "old.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old content")

    def test_server_silent_after_opened(self):
        """The transfer connection is accepted and never answered: each command times out
        after --timeout, the others still run, nothing partial is left."""
        self.serve(transfer=lambda conn, head, rest: wait_for_eof(conn))
        result, took = self.ferry("get a.txt; get x old.txt; ls; put local.bin")
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stderr.count("timed out"), 4, result.stderr)
        self.assertLess(took, 8.0)
        self.assertEqual(len(self.server.transfer_heads), 4)
        self.assertNothingWritten()

    def test_server_stops_in_the_middle_of_its_data(self):
        """OK + FILESIZE, half the data, then silence (connection kept open)."""
        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: 100000\n\n" + b"z" * 50000)
            wait_for_eof(conn)
        self.serve(transfer=transfer)
        result, took = self.ferry("get a.txt; get x old.txt")
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stderr.count("timed out"), 2, result.stderr)
        self.assertNothingWritten()

    def test_garbage_instead_of_a_head(self):
        cases = {
            "1 MiB without an empty line": b"OK\nFILESIZE: 5\n" + b"g" * (1 << 20),
            "1 MiB of binary garbage": random.Random(3).randbytes(1 << 20),
            "not UTF-8": b"OK\nFILESIZE: 5\xff\n\nhello",
            "bad FILESIZE": b"OK\nFILESIZE: -5\n\nhello",
            "duplicated FILESIZE": b"OK\nFILESIZE: 5\nFILESIZE: 5\n\nhello",
            "no FILESIZE": b"OK\n\nhello",
            "NUL in the head": b"OK\x00\nFILESIZE: 5\n\nhello",
        }
        for name, answer in cases.items():
            with self.subTest(case=name):
                def transfer(conn, head, rest, answer=answer):
                    try:
                        conn.sendall(answer)
                    except OSError:
                        pass  # the client may leave before reading it all
                self.serve(transfer=transfer)
                result, took = self.ferry("get a.txt; get x old.txt; ls")
                self.assertEqual(result.returncode, 1, result)
                self.assertEqual(result.stderr.count("error"), 3, result.stderr)
                self.assertNotIn("Traceback", result.stderr)
                self.assertLess(len(result.stdout) + len(result.stderr), 4000)
                self.assertNothingWritten()
                self.server.close()
                self.server = None

    def test_garbage_on_the_control_connection(self):
        for name, answer in (("binary", random.Random(4).randbytes(1 << 20)),
                             ("no empty line", b"OPENED 4000\n" + b"o" * (1 << 20)),
                             ("bad port", b"OPENED 99999\n\n"), ("port 0", b"OPENED 0\n\n"),
                             ("not UTF-8", b"OPENED \xff\n\n")):
            with self.subTest(case=name):
                self.serve(open_answer=answer)
                result, took = self.ferry("get a.txt; ls")
                self.assertIn(result.returncode, (1, 2), result)
                self.assertIn("error", result.stderr.lower())
                self.assertNothingWritten()
                self.server.close()
                self.server = None

    def test_remote_names_with_dot_dot_never_lead_out_of_the_folder(self):
        """`get` takes the last component of the remote name as the local one: `../x`,
        `a/../../x` and `/etc/../x` are written as `x` here, never beside the folder; a name
        ending in `..` needs a local name."""
        self.serve(transfer=lambda conn, head, rest: conn.sendall(b"OK\nFILESIZE: 4\n\nDATA"))
        result, took = self.ferry('get ..; get a/..; get ../x; get a/../../y; get "/etc/../z"')
        self.assertEqual(result.returncode, 1, result)
        self.assertEqual(result.stderr.count("cannot tell a local file name"), 2, result.stderr)
        self.assertEqual(sorted(os.listdir(self.work)), ["local.bin", "old.txt", "x", "y", "z"])
        self.assertEqual(sorted(os.listdir(self.base)), ["work"])
        for name in "xyz":
            with open(os.path.join(self.work, name), "rb") as f:
                self.assertEqual(f.read(), b"DATA")


if __name__ == "__main__":
    ferrytest.main()
