"""Slow, idle and flooding clients end to end: slowloris heads cut off by the head deadline,
idle control connections by --idle-timeout, stalled transfers by the stall timeout, unused
transfer ports by --transfer-timeout; more sessions than --max-sessions and than
--max-sessions-per-ip, more OPENs than a session may hold, strangers on transfer ports.

Each case checks that the offender is cut off (ERROR or close) within its bound, that the
server logged it, and that legitimate clients are served meanwhile and afterwards with
nothing lost (`assert_serves`). Slow cases run side by side in threads to keep the file
within a few seconds per test. (Single idle connections, one unused port, one stranger, one
stalled PUT and `--max-sessions 2` are in test_protocol_raw.py / test_transfer_security.py;
these are the bulk and slow-drip versions, GET stalls, and the per-address limit.)
"""

import os
import random
import re
import socket
import threading
import time

import ferrytest
from ferrytest import Control, read_head, read_to_eof, sha256, transfer
from hostile import HostileTestCase, drip, read_until_closed, temporaries_in_tree


def run_parallel(testcase, functions, timeout=15.0):
    """Runs each function in its own thread; their return values in order. Fails the test
    with every exception raised."""
    results = [None] * len(functions)
    errors = []

    def guarded(index, function):
        try:
            results[index] = function()
        except BaseException as e:  # reported below
            errors.append("%s: %r" % (getattr(function, "__name__", index), e))
    threads = [threading.Thread(target=guarded, args=(i, f), daemon=True)
               for i, f in enumerate(functions)]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    testcase.assertFalse([t for t in threads if t.is_alive()], "threads still running")
    testcase.assertEqual(errors, [])
    return results


def count_in_log(server, pattern, expected, timeout=3.0):
    """How many log lines match `pattern`, waiting up to `timeout` s for `expected` of them
    (the log is read by a thread, a little behind the server)."""
    deadline = time.monotonic() + timeout
    while True:
        count = len(re.findall(pattern, server.log()))
        if count >= expected or time.monotonic() >= deadline:
            return count
        time.sleep(0.05)


class SlowClientTest(HostileTestCase):
    ferryd_options = ("--transfer-timeout", "2", "--idle-timeout", "30")

    def test_slowloris_heads_are_cut_off_by_the_head_deadline(self):
        """One byte a second, never a whole head: on control connections (fresh, and after
        a command) and on transfer connections (GET, PUT, LS), 24 of them at once, each
        closed 2-3 s after its first byte (the head deadline is 2 s, checked once a
        second), not kept open while bytes trickle in; legitimate clients served meanwhile."""
        def control_drip(after_command=False):
            def run():
                control = Control(self.port)
                try:
                    if after_command:
                        control.open("0")
                    return drip(control.sock, b"OPEN 0\nX-Slow: " + b"s" * 30)
                finally:
                    control.close()
            return run

        def transfer_drip(head):
            def run():
                control = Control(self.port)
                sock = ferrytest.connect(control.open("0"))
                try:
                    return drip(sock, head)
                finally:
                    sock.close()
                    control.close()
            return run

        drips = ([control_drip() for _ in range(18)] + [control_drip(True)] +
                 [transfer_drip(b"GET\nFILENAME: keep.bin\n"),
                  transfer_drip(b"PUT\nFILENAME: keep.bin\nFILESIZE: 3\n"),
                  transfer_drip(b"LS sub\n"), transfer_drip(b"GET\nFILENAME: keep.bin\n"),
                  transfer_drip(b"PUT\nFILENAME: slow.bin\nFILESIZE: 3\n")])

        def legitimate():
            time.sleep(0.5)
            for _ in range(3):
                self.assert_serves()
                time.sleep(0.5)
        results = run_parallel(self, drips + [legitimate])[:-1]
        for index, (took, sent, said) in enumerate(results):
            with self.subTest(connection=index):
                self.assertIsNotNone(took, "still open after 10 s (%d bytes sent)" % sent)
                self.assertGreaterEqual(took, 1.5)
                self.assertLessEqual(took, 3.6)
                self.assertLessEqual(sent, 4)
                self.assertEqual(said, b"")  # closed without an answer: the head never came
        self.assertIsNotNone(self.server.wait_log(r"message not complete within 2 s"))
        self.assertIsNotNone(self.server.wait_log(
            r'session \d+: - "" 0 bytes in 2\.\d+ s: closed before a complete request '
            r"\(no progress for 2 s\)"))
        self.assertFalse(os.path.exists(os.path.join(self.root, "slow.bin")))
        self.assert_serves()

    def test_stalled_transfers_are_closed_by_the_stall_timeout(self):
        """A GET whose client stops reading, a PUT whose client stops sending, a transfer
        connection that never says anything: each closed after 2 s without progress, with
        a log line; the upload discarded and the older file whole."""
        big = random.Random(5).randbytes(24 << 20)
        self.write("big.bin", big)
        self.keep["big.bin"] = big

        def stalled_get():
            control = Control(self.port)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
            sock.settimeout(ferrytest.WAIT)
            sock.connect((ferrytest.LOOPBACK, control.open("0")))
            sock.sendall(b"GET\nFILENAME: big.bin\n\n")
            head, rest = read_head(sock)
            assert head == b"OK\nFILESIZE: %d\n\n" % len(big), head
            time.sleep(3.5)  # reads nothing: the server's sends stall
            body = read_to_eof(sock, rest)
            sock.close()
            control.close()
            assert len(body) < len(big), len(body)
            assert body == big[:len(body)], "the bytes that came are not the file's"
            return len(body)

        def stalled_put():
            control = Control(self.port)
            sock = ferrytest.connect(control.open("0"))
            sock.sendall(b"PUT\nFILENAME: keep.bin\nFILESIZE: 1000000\n\n" + b"p" * 300000)
            started = time.monotonic()
            data, closed = read_until_closed(sock, 5.0)
            took = time.monotonic() - started
            sock.close()
            control.close()
            assert closed and data == b"" and 1.5 <= took <= 3.5, (closed, data, took)

        def silent_transfer():
            control = Control(self.port)
            sock = ferrytest.connect(control.open("0"))
            started = time.monotonic()
            data, closed = read_until_closed(sock, 5.0)
            took = time.monotonic() - started
            sock.close()
            control.close()
            assert closed and data == b"" and 1.5 <= took <= 3.5, (closed, data, took)

        def legitimate():
            time.sleep(0.3)
            self.assert_serves()
            time.sleep(1.0)
            self.assert_serves()
        sent, _, _, _ = run_parallel(self, [stalled_get, stalled_put, silent_transfer,
                                            legitimate])
        # The cut is a reset: what the kernel still held for the client is dropped, so the
        # log may count more bytes than the client got.
        cut = self.server.wait_log(
            r'GET "big\.bin" (\d+) bytes in [\d.]+ s: .*\(no progress for 2 s\)')
        self.assertIsNotNone(cut)
        self.assertGreaterEqual(int(cut.group(1)), sent)
        self.assertIsNotNone(self.server.wait_log(
            r'PUT "keep\.bin" 300000 bytes in [\d.]+ s: .*300000 of 1000000 bytes; upload '
            r"discarded \(no progress for 2 s\)"))
        self.assertEqual(temporaries_in_tree(self.root), [])
        self.assert_serves()

    def test_unused_transfer_ports_close_and_free_their_places(self):
        """16 ports opened and never connected: the 17th OPEN refused; after 2 s all 16
        are closed (connections refused, logged) and the session may open 16 again."""
        control = self.control()
        opened_at = time.monotonic()
        ports = [control.open("0") for _ in range(16)]
        self.assertError(control.request("OPEN 0\n\n"), rb"^too many transfer ports open")
        time.sleep(max(0.0, opened_at + 2.6 - time.monotonic()))
        for port in ports:
            with self.assertRaises(ConnectionRefusedError):
                ferrytest.connect(port, timeout=1.0).close()
        for port in ports:
            self.assertIsNotNone(self.server.wait_log(
                r"transfer port %d closed: nobody connected within 2 s" % port))
        again = [control.open("0") for _ in range(16)]
        head, body = transfer(again[0], "GET\nFILENAME: keep.bin\n\n")
        self.assertEqual(sha256(body), sha256(self.keep["keep.bin"]))
        self.assert_serves()


class IdleTest(HostileTestCase):
    ferryd_options = ("--idle-timeout", "1", "--max-sessions", "40")

    def test_idle_control_connections_are_closed_and_free_their_places(self):
        """32 control connections that say nothing (one after a command, one holding an
        opened port): all closed within 1-2.5 s, the port with its session, the places
        freed for 32 new sessions; a legitimate client served meanwhile."""
        started = time.monotonic()
        idle = [Control(self.port) for _ in range(30)]
        after_command = Control(self.port)
        self.assertEqual(after_command.request("NOOP\n\n"), b"ERROR unknown command: NOOP\n\n")
        holder = Control(self.port)
        port = holder.open("0")
        conns = idle + [after_command, holder]
        self.assert_serves()  # well within the second

        def closed_in_time(conn):
            return lambda: read_until_closed(conn.sock, 4.0)
        results = run_parallel(self, [closed_in_time(c) for c in conns])
        took = time.monotonic() - started
        for data, closed in results:
            self.assertEqual((data, closed), (b"", True))
        self.assertLess(took, 3.5)
        with self.assertRaises(ConnectionRefusedError):
            ferrytest.connect(port, timeout=1.0).close()
        self.assertIsNotNone(self.server.wait_log(r"idle for 1 s"))
        self.assertGreaterEqual(count_in_log(self.server, r"idle for 1 s", 32), 32)
        for conn in conns:
            conn.close()
        # Their places are free again (--max-sessions 40).
        fresh = [Control(self.port) for _ in range(32)]
        for conn in fresh:
            self.assertRegex(conn.request("OPEN 0\n\n"), rb"^OPENED \d+\n\n$")
        for conn in fresh:
            conn.close()
        self.assert_serves()


class SessionFloodTest(HostileTestCase):
    ferryd_options = ("--max-sessions", "5")

    def test_more_sessions_than_max_sessions(self):
        admitted = [self.control() for _ in range(4)]
        for conn in admitted:
            conn.open("0")

        def knock():
            conn = Control(self.port)
            try:
                return read_until_closed(conn.sock, 3.0)
            finally:
                conn.close()
        # With 4 held and one for the legitimate client below: 30 knocking at once.
        admitted.append(self.control())
        results = run_parallel(self, [knock] * 30)
        for data, closed in results:
            self.assertEqual((data, closed), (b"ERROR too many sessions (limit 5)\n\n", True))
        self.assertEqual(count_in_log(self.server, r"warning session \d+: refused "
                                      r"127\.0\.0\.1:\d+: too many sessions \(limit 5\)", 30), 30)
        # The admitted ones are unaffected: each runs a transfer.
        for conn in admitted:
            head, body = transfer(conn.open("0"), "GET\nFILENAME: keep.bin\n\n")
            self.assertEqual(sha256(body), sha256(self.keep["keep.bin"]))
        admitted.pop().close()
        self.assertTrue(self.wait_until(self._serves, timeout=3.0))

    def _serves(self):
        try:
            self.assert_serves()
            return True
        except ConnectionError:
            return False


class PerAddressFloodTest(HostileTestCase):
    ferryd_options = ("--max-sessions-per-ip", "3")

    def test_more_sessions_than_max_sessions_per_ip(self):
        try:
            ferrytest.connect(self.port, source="127.0.0.2").close()
        except OSError as e:
            self.skipTest("cannot connect from 127.0.0.2 here: %s" % e)
        self.assertTrue(self.wait_until(
            lambda: self.server.wait_log(r"session 1: ended", timeout=0.1)))
        local = [self.control() for _ in range(3)]
        for conn in local:
            conn.open("0")
        for _ in range(10):
            extra = self.control()
            self.assertEqual(read_to_eof(extra.sock, extra.buffer),
                             b"ERROR too many sessions from 127.0.0.1 (limit 3 per address)\n\n")
        self.assertEqual(count_in_log(
            self.server, r"warning session \d+: refused 127\.0\.0\.1:\d+: too many sessions from "
            r"127\.0\.0\.1 \(limit 3 per address\)", 10), 10)
        # Another address is admitted while 127.0.0.1 is at its limit: two sessions and a
        # whole legitimate round trip (the third), then the fourth is refused.
        others = [self.control(source="127.0.0.2") for _ in range(2)]
        for conn in others:
            conn.open("0")
        self.assert_serves(source="127.0.0.2")
        third = self.control(source="127.0.0.2")
        third.open("0")
        fourth = self.control(source="127.0.0.2")
        self.assertEqual(read_to_eof(fourth.sock, fourth.buffer),
                         b"ERROR too many sessions from 127.0.0.2 (limit 3 per address)\n\n")
        # The sessions held are unaffected; when one of 127.0.0.1's ends, 127.0.0.1 is
        # admitted again.
        for conn in local:
            head, body = transfer(conn.open("0"), "GET\nFILENAME: sub/keep.txt\n\n")
            self.assertEqual(body, self.keep["sub/keep.txt"])
        local.pop().close()

        def admitted():
            try:
                self.assert_serves()
                return True
            except (ConnectionError, AssertionError):  # refused: the close not yet seen
                return False
        self.assertTrue(self.wait_until(admitted, timeout=3.0))


class PortFloodTest(HostileTestCase):
    def test_more_opens_than_a_session_may_hold(self):
        """A session opens 16 ports and then asks 100 more times (pipelined): each refused
        with ERROR and logged, the session still usable; other sessions unaffected."""
        flooder = self.control()
        ports = [flooder.open("0") for _ in range(16)]
        flooder.sock.sendall(b"OPEN 0\n\n" * 99 + b"OPEN %d\n\n" % ferrytest.free_port())
        expected = (b"ERROR too many transfer ports open: at most 16 per session until they "
                    b"are connected\n\n")
        for _ in range(100):
            self.assertEqual(flooder.answer(), expected)
        self.assertIsNotNone(self.server.wait_log(r"warning session \d+: OPEN refused: too many"))
        self.assertEqual(count_in_log(self.server, r"warning session \d+: OPEN refused: too many "
                                      r"transfer ports open: at most 16 per session", 100), 100)
        self.assert_serves()
        other = self.control()
        other_ports = [other.open("0") for _ in range(16)]
        head, body = transfer(other_ports[5], "GET\nFILENAME: keep.bin\n\n")
        self.assertEqual(sha256(body), sha256(self.keep["keep.bin"]))
        # The flooder's own ports still work, and a used one frees its place.
        head, body = transfer(ports[3], "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertTrue(self.wait_until(
            lambda: re.fullmatch(rb"OPENED \d+\n\n", flooder.request("OPEN 0\n\n"))))

    def test_strangers_on_a_transfer_port(self):
        """40 connections from 127.0.0.2 and 127.0.0.3 to one transfer port, trying to
        overwrite a file and to read one: each closed without an answer and logged; the
        port then serves its own client; nothing written."""
        try:
            ferrytest.connect(self.port, source="127.0.0.3").close()
        except OSError as e:
            self.skipTest("cannot connect from 127.0.0.3 here: %s" % e)
        control = self.control()
        port = control.open("0")

        def stranger(index):
            def run():
                source = "127.0.0.2" if index % 2 else "127.0.0.3"
                sock = ferrytest.connect(port, source=source)
                try:
                    if index % 4 < 2:
                        sock.sendall(b"PUT\nFILENAME: keep.bin\nFILESIZE: 6\n\nHACKED")
                    else:
                        sock.sendall(b"GET\nFILENAME: keep.bin\n\n")
                except OSError:
                    pass  # already closed by the server
                data, closed = read_until_closed(sock, 3.0)
                sock.close()
                return data, closed
            return run
        results = run_parallel(self, [stranger(i) for i in range(40)])
        for data, closed in results:
            self.assertEqual((data, closed), (b"", True))
        self.assertEqual(count_in_log(
            self.server, r"warning session \d+: refused a connection to transfer port %d from "
            r"127\.0\.0\.[23]:\d+: not the session's client 127\.0\.0\.1" % port, 40), 40)
        head, body = transfer(port, "GET\nFILENAME: keep.bin\n\n")
        self.assertEqual((head, sha256(body)), (b"OK\nFILESIZE: %d\n\n" % len(self.keep["keep.bin"]),
                                                sha256(self.keep["keep.bin"])))
        self.assert_serves()


if __name__ == "__main__":
    ferrytest.main()
