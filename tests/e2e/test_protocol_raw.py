"""ferryd over raw sockets: every exchange of docs/PROTOCOL.md byte for byte, and its errors."""

import os
import random
import re
import socket
import threading
import time
import unittest

import ferrytest
from ferrytest import (Control, ServerTestCase, closed_by_peer, free_port, parse_listing,
                       read_head, read_to_eof, transfer, utc_text)


def random_bytes(size, seed):
    return random.Random(seed).randbytes(size)


class OpenTest(ServerTestCase):
    def test_open_with_a_port_the_client_picked(self):
        control = self.control()
        port = free_port()
        self.assertEqual(control.request("OPEN %d\n\n" % port), b"OPENED %d\n\n" % port)
        self.write("somefile.txt", b"hello\n")
        head, body = transfer(port, "GET\nFILENAME: somefile.txt\n\n")
        self.assertEqual(head + body, b"OK\nFILESIZE: 6\n\nhello\n")

    def test_open_zero_and_bare_open_pick_a_port(self):
        control = self.control()
        first = control.open("0")
        second = control.open(None)
        for port in (first, second):
            self.assertTrue(1024 <= port <= 65535, port)
        self.assertNotEqual(first, second)
        # Both listen: each serves one transfer.
        for port in (first, second):
            head, body = transfer(port, "LS\n\n")
            self.assertEqual(head, b"OK\n\n")

    def test_open_below_1024_is_refused_and_control_stays_usable(self):
        control = self.control()
        self.assertError(control.request("OPEN 80\n\n"), rb"1024")
        self.assertError(control.request("OPEN 1023\n\n"), rb"1024")
        control.open("0")

    def test_open_bad_ports(self):
        control = self.control()
        for argument in ("65536", "99999", "-1", "abc", "12 34", "0x50"):
            with self.subTest(argument=argument):
                self.assertError(control.request("OPEN %s\n\n" % argument))
        control.open("0")

    def test_open_of_a_port_in_use_is_refused_and_control_stays_usable(self):
        control = self.control()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
            busy.bind((ferrytest.LOOPBACK, 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.assertError(control.request("OPEN %d\n\n" % port), rb"in use")
        control.open("0")

    def test_at_most_16_ports_opened_and_not_connected(self):
        control = self.control()
        ports = [control.open("0") for _ in range(16)]
        self.assertEqual(len(set(ports)), 16)
        self.assertError(control.request("OPEN 0\n\n"), rb"too many")
        self.assertError(control.request("OPEN %d\n\n" % free_port()), rb"too many")
        # A used port no longer counts.
        head, _ = transfer(ports[0], "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertTrue(self.wait_until(
            lambda: re.fullmatch(rb"OPENED \d+\n\n", control.request("OPEN 0\n\n"))))

    def test_ports_close_with_their_session(self):
        control = self.control()
        port = control.open("0")
        control.close()

        def refused():
            try:
                with ferrytest.connect(port, timeout=1.0):
                    return False
            except ConnectionRefusedError:
                return True
            except ConnectionResetError:  # the listener closed during the handshake: again
                return False
        self.assertTrue(self.wait_until(refused, timeout=3.0),
                        "transfer port %d still open after its control connection closed" % port)

    def test_quit(self):
        control = self.control()
        self.assertEqual(control.request("QUIT\n\n"), b"BYE\n\n")
        self.assertIs(closed_by_peer(control.sock), True)

    def test_unknown_verb_on_control_keeps_the_connection(self):
        control = self.control()
        self.assertEqual(control.request("FOO\n\n"), b"ERROR unknown command: FOO\n\n")
        self.assertEqual(control.request("GET\nFILENAME: x\n\n"),
                         b"ERROR unknown command: GET\n\n")
        control.open("0")

    def test_pipelined_requests_are_answered_in_order(self):
        control = self.control()
        control.sock.sendall(b"OPEN 0\n\nFOO\n\nOPEN\n\nQUIT\n\n")
        self.assertRegex(control.answer(), rb"^OPENED \d+\n\n$")
        self.assertEqual(control.answer(), b"ERROR unknown command: FOO\n\n")
        self.assertRegex(control.answer(), rb"^OPENED \d+\n\n$")
        self.assertEqual(control.answer(), b"BYE\n\n")

    def test_crlf_and_lower_case_verbs(self):
        self.write("somefile.txt", b"abc")
        control = self.control()
        port = control.open("0")
        self.assertRegex(control.request("open 0\r\n\r\n"), rb"^OPENED \d+\n\n$")
        self.assertRegex(control.request("Open\r\n\n"), rb"^OPENED \d+\n\n$")
        head, body = transfer(port, "get\r\nfilename: somefile.txt\r\n\r\n")
        self.assertEqual(head + body, b"OK\nFILESIZE: 3\n\nabc")
        self.assertEqual(control.request("quit\r\n\r\n"), b"BYE\n\n")


class TransferTest(ServerTestCase):
    def test_get(self):
        data = random_bytes(300000, 1)
        self.write("somefile.txt", data)
        head, body = self.request("GET\nFILENAME: somefile.txt\n\n")
        self.assertEqual(head, b"OK\nFILESIZE: 300000\n\n")
        self.assertEqual(body, data)

    def test_get_of_an_empty_file_and_a_leading_slash(self):
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/empty", b"")
        head, body = self.request("GET\nFILENAME: /sub/empty\n\n")
        self.assertEqual((head, body), (b"OK\nFILESIZE: 0\n\n", b""))

    def test_put(self):
        data = random_bytes(102800, 2)
        head, body = self.request("PUT\nFILENAME: clifile.txt\nFILESIZE: 102800\n\n", data)
        self.assertEqual((head, body), (b"OK\nFILESIZE: 102800\n\n", b""))
        self.assertEqual(self.read("clifile.txt"), data)
        self.assertEqual(ferrytest.temporaries(self.root), [])

    def test_put_replaces_an_existing_file_and_into_a_subdirectory(self):
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/f.bin", b"old content that is longer")
        head, _ = self.request("PUT\nFILENAME: sub/f.bin\nFILESIZE: 3\n\n", b"new")
        self.assertEqual(head, b"OK\nFILESIZE: 3\n\n")
        self.assertEqual(self.read("sub/f.bin"), b"new")

    def test_put_of_an_empty_file(self):
        head, _ = self.request("PUT\nFILENAME: empty.txt\nFILESIZE: 0\n\n")
        self.assertEqual(head, b"OK\nFILESIZE: 0\n\n")
        self.assertEqual(self.read("empty.txt"), b"")

    def test_put_then_get_roundtrip_of_a_name_with_spaces(self):
        data = random_bytes(5000, 3)
        head, _ = self.request("PUT\nFILENAME: my file.txt\nFILESIZE: 5000\n\n", data)
        self.assertEqual(head, b"OK\nFILESIZE: 5000\n\n")
        head, body = self.request("GET\nFILENAME: my file.txt\n\n")
        self.assertEqual((head, body), (b"OK\nFILESIZE: 5000\n\n", data))

    def make_tree(self):
        self.write("b.txt", b"bbbb")
        self.write("a.txt", b"a")
        self.write("B upper.txt", b"")
        self.write(".hidden", b"hh")
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/inner.txt", b"inner!")
        os.mkdir(os.path.join(self.root, "dir with spaces"))
        self.write("dir with spaces/name with spaces.txt", b"12345")
        self.write("dir with spaces/z", b"z")
        os.symlink("a.txt", os.path.join(self.root, "link"))
        os.utime(os.path.join(self.root, "a.txt"), (1700000000, 1700000000))

    def check_listing(self, body, directory):
        """The entries of an LS body, sorted by name (the server sends them in directory
        order: each name exactly once)."""
        entries = sorted(parse_listing(body), key=lambda e: e[3])
        names = sorted(os.listdir(directory), key=os.fsencode)
        self.assertEqual([e[3] for e in entries], [os.fsencode(n) for n in names])
        for kind, size, mtime, name in entries:
            st = os.lstat(os.path.join(directory, os.fsdecode(name)))
            expected_kind = ("l" if os.path.islink(os.path.join(directory, os.fsdecode(name)))
                             else "d" if os.path.isdir(os.path.join(directory, os.fsdecode(name)))
                             else "f")
            self.assertEqual((kind, size, mtime),
                             (expected_kind, st.st_size, utc_text(st.st_mtime_ns // 10**9)),
                             name)
        return entries

    def test_ls_of_the_root(self):
        self.make_tree()
        head, body = self.request("LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        entries = self.check_listing(body, self.root)
        self.assertEqual([e[3] for e in entries],
                         [b".hidden", b"B upper.txt", b"a.txt", b"b.txt", b"dir with spaces",
                          b"link", b"sub"])
        self.assertIn(("f", 1, "2023-11-14T22:13:20Z", b"a.txt"), entries)
        self.assertIn(("l", 5, entries[5][2], b"link"), entries)
        self.assertEqual(entries[5][3], b"link")
        # `LS /` is the root too.
        self.assertEqual(self.request("LS /\n\n")[0], head)
        self.assertEqual(self.check_listing(self.request("LS /\n\n")[1], self.root), entries)

    def test_ls_of_a_subdirectory_and_of_one_with_spaces(self):
        self.make_tree()
        head, body = self.request("LS sub\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.check_listing(body, os.path.join(self.root, "sub"))
        head, body = self.request("LS dir with spaces\n\n")
        self.assertEqual(head, b"OK\n\n")
        entries = self.check_listing(body, os.path.join(self.root, "dir with spaces"))
        self.assertEqual([e[3] for e in entries], [b"name with spaces.txt", b"z"])
        self.assertEqual(entries[0][1], 5)

    def test_ls_of_a_file_lists_that_entry(self):
        self.make_tree()
        head, body = self.request("LS sub/inner.txt\n\n")
        self.assertEqual(head, b"OK\n\n")
        st = os.stat(os.path.join(self.root, "sub/inner.txt"))
        self.assertEqual(parse_listing(body),
                         [("f", 6, utc_text(st.st_mtime_ns // 10**9), b"inner.txt")])

    def test_ls_of_an_empty_directory_and_escaped_names(self):
        os.mkdir(os.path.join(self.root, "empty"))
        head, body = self.request("LS empty\n\n")
        self.assertEqual((head, body), (b"OK\n\n", b""))
        self.write("line\nbreak", b"")
        self.write("back\\slash", b"")
        head, body = self.request("LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertEqual(sorted(e[3] for e in parse_listing(body)),
                         [b"back\\\\slash", b"empty", b"line\\nbreak"])
        # Each name LS shows can be named back, escaped.
        for shown, raw in ((b"line\\nbreak", "line\nbreak"), (b"back\\\\slash", "back\\slash")):
            head, body = self.request(b"GET\nFILENAME: " + shown + b"\nESCAPED: yes\n\n")
            self.assertEqual(head, b"OK\nFILESIZE: 0\n\n", raw)
        # Without ESCAPED a backslash is a backslash, as a seed client means it.
        head, _ = self.request("GET\nFILENAME: back\\slash\n\n")
        self.assertEqual(head, b"OK\nFILESIZE: 0\n\n")
        head, _ = self.request("GET\nFILENAME: a\\q\nESCAPED: yes\n\n")
        self.assertError(head, rb"^malformed escape in path: a\\\\q$")
        head, _ = self.request("LS back\\\\slash\nESCAPED: yes\n\n")
        self.assertEqual(head, b"OK\n\n")
        # A name that is not UTF-8 is uploaded and fetched by its escaped form.
        head, _ = self.request("PUT\nFILENAME: bad\\xff.bin\nFILESIZE: 3\nESCAPED: yes\n\n", b"abc")
        self.assertEqual(head, b"OK\nFILESIZE: 3\n\n")
        with open(os.path.join(os.fsencode(self.root), b"bad\xff.bin"), "rb") as f:
            self.assertEqual(f.read(), b"abc")
        self.assertEqual(self.request("GET\nFILENAME: bad\\xff.bin\nESCAPED: yes\n\n"),
                         (b"OK\nFILESIZE: 3\n\n", b"abc"))
        head, _ = self.request("GET\nFILENAME: a\nESCAPED: maybe\n\n")
        self.assertError(head, rb"^bad ESCAPED value: maybe \(expected yes or no\)$")

    def test_names_reach_the_log_visibly_escaped(self):
        """A bidi override, a C1 control and a line separator in a name: the wire passes
        them (printable Unicode), the log shows them as \\uXXXX, so a name can neither
        forge a log line nor hide what it is."""
        name = "evil\u202etxt.exe\u0085x\u2028y"
        self.write(name, b"12")
        head, body = self.request("GET\nFILENAME: %s\n\n" % name)
        self.assertEqual((head, body), (b"OK\nFILESIZE: 2\n\n", b"12"))
        line = self.server.wait_log(r'GET "evil\\u202etxt\.exe\\u0085x\\u2028y" 2 bytes')
        self.assertIsNotNone(line, self.server.log()[-500:])
        self.assertNotIn("\u202e", self.server.log())

    def test_ls_hides_unfinished_uploads(self):
        self.write(".ferry-tmp-0123456789abcdef", b"partial")
        self.write("visible", b"")
        # ferryd removes stale uploads at start: this one appeared afterwards.
        head, body = self.request("LS\n\n")
        self.assertEqual([e[3] for e in parse_listing(body)], [b"visible"])


class TransferErrorTest(ServerTestCase):
    def assertRefused(self, request, pattern=rb".+", data=b""):
        head, body = self.request(request, data)
        self.assertError(head, pattern)
        self.assertEqual(body, b"")

    def test_get_of_a_missing_file(self):
        self.assertRefused("GET\nFILENAME: missing.txt\n\n", rb"no such file.*missing\.txt")

    def test_get_of_a_directory(self):
        os.mkdir(os.path.join(self.root, "sub"))
        self.assertRefused("GET\nFILENAME: sub\n\n", rb"is a directory")
        self.assertRefused("GET\nFILENAME: /\n\n", rb"is a directory")

    def test_get_without_filename(self):
        self.assertRefused("GET\n\n", rb"FILENAME")
        self.assertRefused("GET\nFILENAME: \n\n", rb"FILENAME")

    def test_ls_of_a_missing_directory(self):
        self.assertRefused("LS nope\n\n", rb"no such file.*nope")

    def test_put_without_filesize(self):
        self.assertRefused("PUT\nFILENAME: x.txt\n\n", rb"FILESIZE", b"data")
        self.assertFalse(os.path.exists(os.path.join(self.root, "x.txt")))

    def test_put_into_a_missing_directory(self):
        self.assertRefused("PUT\nFILENAME: nodir/x.txt\nFILESIZE: 4\n\n", rb"no such directory",
                           b"data")
        self.assertEqual(os.listdir(self.root), [])

    def test_refused_put_of_a_large_body_still_gets_its_answer(self):
        # The client is still sending when the ERROR comes: the server reads and drops the
        # rest (bounded) so that the answer arrives instead of a reset.
        data = random_bytes(8 << 20, 6)
        self.assertRefused("PUT\nFILENAME: nodir/x.bin\nFILESIZE: %d\n\n" % len(data),
                           rb"no such directory", data)

    def test_put_onto_a_directory_and_reserved_names(self):
        os.mkdir(os.path.join(self.root, "sub"))
        self.assertRefused("PUT\nFILENAME: sub\nFILESIZE: 1\n\n", rb"is a directory", b"x")
        self.assertRefused("PUT\nFILENAME: sub/\nFILESIZE: 1\n\n", rb".", b"x")
        self.assertRefused("PUT\nFILENAME: .ferry-tmp-abc\nFILESIZE: 1\n\n", rb"reserved", b"x")
        self.assertRefused("PUT\nFILENAME: ..\nFILESIZE: 1\n\n", rb".", b"x")
        self.assertEqual(os.listdir(self.root), ["sub"])
        self.assertEqual(os.listdir(os.path.join(self.root, "sub")), [])

    def test_unknown_verb_on_a_transfer_connection(self):
        self.write("a.txt", b"keep")
        head, body = self.request("DELETE\nFILENAME: a.txt\n\n")
        self.assertEqual((head, body), (b"ERROR unknown command: DELETE\n\n", b""))
        self.assertEqual(self.read("a.txt"), b"keep")
        # OPEN is a control verb, not a transfer one.
        self.assertRefused("OPEN 0\n\n", rb"unknown command")

    def test_malformed_heads_on_a_transfer_connection(self):
        self.write("a.txt", b"abc")
        cases = {
            "header without a colon": b"GET\nFILENAME a.txt\n\n",
            "repeated header": b"GET\nFILENAME: a.txt\nFILENAME: a.txt\n\n",
            "repeated header, other case": b"GET\nFILENAME: a.txt\nfilename: a.txt\n\n",
            "FILESIZE -1": b"PUT\nFILENAME: b.txt\nFILESIZE: -1\n\n",
            "FILESIZE 12a": b"PUT\nFILENAME: b.txt\nFILESIZE: 12a\n\n",
            "FILESIZE 2^63": b"PUT\nFILENAME: b.txt\nFILESIZE: 9223372036854775808\n\n",
            "FILESIZE empty": b"PUT\nFILENAME: b.txt\nFILESIZE: \n\n",
            "FILESIZE +5": b"PUT\nFILENAME: b.txt\nFILESIZE: +5\n\n",
            "FILESIZE with a trailing space": b"PUT\nFILENAME: b.txt\nFILESIZE: 5 \n\n",
            "NUL in a value": b"GET\nFILENAME: a.txt\x00x\n\n",
            "not UTF-8": b"GET\nFILENAME: \xff\xfe\n\n",
            "empty start line": b"\nFILENAME: a.txt\n\n",
            "65 header lines": b"GET\n" + b"".join(b"X%d: 1\n" % i for i in range(65)) + b"\n",
        }
        for name, request in cases.items():
            with self.subTest(name):
                head, body = self.request(request, b"hello")
                self.assertError(head)
                self.assertEqual(body, b"")
        self.assertFalse(os.path.exists(os.path.join(self.root, "b.txt")))

    def test_unknown_headers_are_ignored_and_64_header_lines_are_fine(self):
        self.write("a.txt", b"abc")
        request = (b"GET\nFILENAME: a.txt\n" + b"".join(b"X-Extra-%d: 1\n" % i for i in range(63))
                   + b"\n")
        self.assertEqual(self.request(request), (b"OK\nFILESIZE: 3\n\n", b"abc"))

    def test_head_over_8_kib_on_a_transfer_connection(self):
        control = self.control()
        port = control.open("0")
        sock = self.connect(port)
        sock.sendall(b"GET\nFILENAME: " + b"a" * 9000)
        head, rest = read_head(sock)
        self.assertError(head, rb"too long")
        self.assertEqual(read_to_eof(sock, rest), b"")

    def test_head_over_8_kib_on_the_control_connection(self):
        control = self.control()
        control.sock.sendall(b"OPEN " + b"1" * 8995)
        self.assertError(control.answer(), rb"too long")
        self.assertEqual(read_to_eof(control.sock, control.buffer), b"")

    def test_malformed_head_on_the_control_connection_closes_it(self):
        for request in (b"OPEN\nbad header\n\n", b"OPEN\nA: 1\nA: 2\n\n", b"OP3N\n\n",
                        b"OPEN\nFILESIZE: 12a\n\n"):
            with self.subTest(request=request):
                control = self.control()
                self.assertError(control.request(request))
                self.assertEqual(read_to_eof(control.sock, control.buffer), b"")

    def test_transfer_connection_closed_before_a_request(self):
        control = self.control()
        port = control.open("0")
        self.connect(port).close()
        self.assertIsNotNone(self.server.wait_log(r"closed before a complete request"))
        # The server goes on serving.
        control.open("0")


class ReadOnlyTest(ServerTestCase):
    ferryd_options = ("--read-only",)

    def test_put_is_refused_and_get_works(self):
        self.write("a.txt", b"read me")
        head, body = self.request("PUT\nFILENAME: new.txt\nFILESIZE: 4\n\n", b"data")
        self.assertError(head, rb"read-only")
        head, body = self.request("PUT\nFILENAME: a.txt\nFILESIZE: 4\n\n", b"data")
        self.assertError(head, rb"read-only")
        self.assertEqual(sorted(os.listdir(self.root)), ["a.txt"])
        self.assertEqual(self.request("GET\nFILENAME: a.txt\n\n"), (b"OK\nFILESIZE: 7\n\n",
                                                                     b"read me"))
        head, body = self.request("LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertIn("read-only", self.server.lines[0])


class DataPortsTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        # Below the usual ephemeral range, so that nothing else is likely to hold them; and
        # checked free a moment ago.
        rng = random.Random()
        for _ in range(50):
            self.low = rng.randrange(20000, 30000)
            self.high = self.low + 2
            if all(self.bindable(port) for port in range(self.low, self.high + 1)):
                break
        self.ranged = self.start_server(("--data-ports", "%d-%d" % (self.low, self.high)))

    @staticmethod
    def bindable(port):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((ferrytest.LOOPBACK, port))
                return True
            except OSError:
                return False

    def test_open_zero_picks_from_the_range_and_others_are_refused(self):
        control = self.control(self.ranged.port)
        ports = [control.open("0") for _ in range(3)]
        self.assertEqual(sorted(ports), list(range(self.low, self.high + 1)))
        self.assertError(control.request("OPEN 0\n\n"), rb"no free port")
        self.assertError(control.request("OPEN %d\n\n" % (self.high + 1)), rb"outside")
        self.assertError(control.request("OPEN %d\n\n" % (self.low - 1)), rb"outside")
        head, body = transfer(ports[1], "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertTrue(self.wait_until(
            lambda: control.request("OPEN %d\n\n" % ports[1]) == b"OPENED %d\n\n" % ports[1]))

    def test_bad_range_is_a_usage_error(self):
        for value in ("100-200", "3000-2000", "3000", "a-b", "3000-70000"):
            with self.subTest(value=value):
                result = ferrytest.subprocess.run(
                    [ferrytest.FERRYD, "--root", self.root, "--data-ports", value, "0"],
                    capture_output=True, text=True, timeout=10)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("--data-ports", result.stderr)


class SessionLimitTest(ServerTestCase):
    ferryd_options = ("--max-sessions", "2")

    def test_third_session_is_refused(self):
        first = self.control()
        second = self.control()
        first.open("0")
        second.open("0")
        third = self.control()
        self.assertEqual(third.answer(), b"ERROR too many sessions (limit 2)\n\n")
        self.assertEqual(read_to_eof(third.sock, third.buffer), b"")
        first.close()

        def new_session_works():
            conn = self.control()
            try:
                return re.fullmatch(rb"OPENED \d+\n\n", conn.request("OPEN 0\n\n"))
            except ConnectionError:
                return False
            finally:
                conn.close()
        self.assertTrue(self.wait_until(new_session_works, timeout=3.0))


class TimeoutTest(ServerTestCase):
    ferryd_options = ("--transfer-timeout", "1", "--idle-timeout", "1")

    def test_an_unused_transfer_port_closes(self):
        control = self.control()
        used = control.open("0")
        unused = control.open("0")
        opened = time.monotonic()
        head, _ = transfer(used, "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        time.sleep(max(0.0, opened + 1.8 - time.monotonic()))
        with self.assertRaises(ConnectionRefusedError):
            ferrytest.connect(unused, timeout=1.0).close()
        self.assertIsNotNone(self.server.wait_log(
            r"transfer port %d closed: nobody connected within 1 s" % unused))

    def test_an_idle_control_connection_is_closed(self):
        control = self.control()
        started = time.monotonic()
        self.assertIs(closed_by_peer(control.sock, timeout=4.0), True)
        self.assertGreater(time.monotonic() - started, 0.8)
        self.assertIsNotNone(self.server.wait_log(r"idle for 1 s"))

    def test_commands_keep_a_control_connection_alive(self):
        control = self.control()
        for _ in range(3):
            time.sleep(0.6)
            self.assertEqual(control.request("NOOP\n\n"), b"ERROR unknown command: NOOP\n\n")
        self.assertIs(closed_by_peer(control.sock, timeout=4.0), True)


class PeerAddressTest(ServerTestCase):
    def test_transfer_connection_from_another_address_is_refused(self):
        data = random_bytes(10000, 4)
        self.write("a.bin", data)
        control = self.control()
        port = control.open("0")
        stranger = self.connect(port, source="127.0.0.2")
        stranger.sendall(b"GET\nFILENAME: a.bin\n\n")
        started = time.monotonic()
        self.assertEqual(read_to_eof(stranger), b"")
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertIsNotNone(self.server.wait_log(
            r"refused a connection to transfer port %d from 127\.0\.0\.2" % port))
        # The port still waits for its own client.
        head, body = transfer(port, "GET\nFILENAME: a.bin\n\n")
        self.assertEqual((head, body), (b"OK\nFILESIZE: 10000\n\n", data))


class AddressFamilyTest(ServerTestCase):
    def test_ipv6_loopback(self):
        try:
            server = self.start_server(("--bind", "::1"))
        except RuntimeError as e:
            self.skipTest("no IPv6 loopback here: %s" % e)
        sock = socket.create_connection(("::1", server.port), timeout=ferrytest.WAIT)
        self._sockets.append(sock)
        self.write("a.txt", b"six")
        sock.sendall(b"OPEN 0\n\n")
        head, _ = read_head(sock)
        port = int(re.fullmatch(rb"OPENED (\d+)\n\n", head).group(1))
        with socket.create_connection(("::1", port), timeout=ferrytest.WAIT) as data:
            data.sendall(b"GET\nFILENAME: a.txt\n\n")
            self.assertEqual(read_to_eof(data), b"OK\nFILESIZE: 3\n\nsix")

    def test_bind_to_one_address(self):
        bound = self.start_server(("--bind", "127.0.0.1"))
        self.assertIn("listening on 127.0.0.1:%d" % bound.port, bound.lines[0])
        control = self.control(bound.port)
        port = control.open("0")
        self.assertEqual(transfer(port, "LS\n\n")[0], b"OK\n\n")


class ServerLifeTest(ServerTestCase):
    def test_sigterm_with_open_sessions_exits_0_and_closes_them(self):
        idle = self.control()
        busy = self.control()
        busy.open("0")
        started = time.monotonic()
        self.assertEqual(self.server.stop(timeout=10.0), 0, self.server.log())
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertIs(closed_by_peer(idle.sock, timeout=1.0), True)
        self.assertIs(closed_by_peer(busy.sock, timeout=1.0), True)
        self.assertIsNotNone(self.server.wait_log(r"ferryd stopped"))

    def test_command_line(self):
        run = ferrytest.subprocess.run
        for args in (["--no-such-option", "0"], ["--root", self.root], ["--root", self.root, "x"],
                     ["--root", self.root, "70000"], ["--root", os.path.join(self.base, "nope"),
                                                      "0"],
                     ["--root", self.root, "--max-sessions", "0", "0"],
                     ["--root", self.root, "--bind", "not-an-address", "0"]):
            with self.subTest(args=args):
                result = run([ferrytest.FERRYD] + args, capture_output=True, text=True,
                             timeout=10, stdin=ferrytest.subprocess.DEVNULL)
                self.assertEqual(result.returncode, 2, result)
                self.assertTrue(result.stderr.strip(), result)
                self.assertEqual(result.stdout, "")
        for flag, pattern in (("--help", r"--root"), ("--version", r"ferryd \d+\.\d+\.\d+")):
            with self.subTest(flag=flag):
                result = run([ferrytest.FERRYD, flag], capture_output=True, text=True, timeout=10,
                             stdin=ferrytest.subprocess.DEVNULL)
                self.assertEqual(result.returncode, 0, result)
                self.assertRegex(result.stdout, pattern)


class RobustnessTest(ServerTestCase):
    def test_many_pipelined_requests_without_reading(self):
        count = 20000
        control = self.control()
        errors = []

        def send():
            try:
                control.sock.sendall(b"NOOP\n\n" * count + b"QUIT\n\n")
            except OSError as e:
                errors.append(e)
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(0.3)  # the server's answers pile up meanwhile
        answers = read_to_eof(control.sock, control.buffer)
        sender.join(5.0)
        self.assertEqual(errors, [])
        self.assertEqual(answers, b"ERROR unknown command: NOOP\n\n" * count + b"BYE\n\n")

    def test_the_open_port_limit_is_per_session(self):
        first, second = self.control(), self.control()
        for _ in range(16):
            first.open("0")
            second.open("0")
        self.assertError(first.request("OPEN\n\n"), rb"too many")
        self.assertError(second.request("OPEN\n\n"), rb"too many")
        self.control().open("0")

    def test_get_of_a_fifo_does_not_hang(self):
        os.mkfifo(os.path.join(self.root, "fifo"))
        head, body = self.request("GET\nFILENAME: fifo\n\n")
        self.assertError(head, rb"not a regular file")
        head, body = self.request("LS\n\n")
        self.assertEqual(parse_listing(body)[0][:2], ("o", 0))

    def test_put_with_more_data_than_announced(self):
        head, body = self.request("PUT\nFILENAME: x.txt\nFILESIZE: 5\n\n", b"12345EXTRA")
        self.assertError(head, rb"more data")
        # The temporary file goes once the server has closed the connection.
        self.wait_until(lambda: not os.listdir(self.root))
        self.assertEqual(os.listdir(self.root), [])

    def test_ls_of_a_large_directory(self):
        os.mkdir(os.path.join(self.root, "many"))
        names = ["file-%05d-%s" % (i, "x" * 100) for i in range(1500)]
        for name in names:
            open(os.path.join(self.root, "many", name), "wb").close()
        head, body = self.request("LS many\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertGreater(len(body), 128 * 1024)
        self.assertEqual(sorted(e[3].decode() for e in parse_listing(body)), sorted(names))


class FramingTest(ServerTestCase):
    ferryd_options = ("--transfer-timeout", "1")

    def test_heads_sent_one_byte_at_a_time(self):
        self.write("a.txt", b"abc")
        control = self.control()
        for byte in b"OPEN 0\r\n\r\n":
            control.sock.send(bytes([byte]))
            time.sleep(0.002)
        port = int(re.fullmatch(rb"OPENED (\d+)\n\n", control.answer()).group(1))
        sock = self.connect(port)
        for byte in b"GET\r\nFILENAME: a.txt\r\n\r\n":
            sock.send(bytes([byte]))
            time.sleep(0.002)
        self.assertEqual(read_to_eof(sock), b"OK\nFILESIZE: 3\n\nabc")

    def test_head_of_exactly_8_kib_is_accepted_and_one_byte_more_is_not(self):
        self.write("a.txt", b"abc")

        def head_of(size):
            start = b"GET\nFILENAME: a.txt\nX-Pad: "
            return start + b"p" * (size - len(start) - 2) + b"\n\n"
        self.assertEqual(len(head_of(8192)), 8192)
        self.assertEqual(self.request(head_of(8192)), (b"OK\nFILESIZE: 3\n\n", b"abc"))
        head, body = self.request(head_of(8193))
        self.assertError(head, rb"too long")
        # The same limit on the control connection.
        pad = b"OPEN 0\nX-Pad: "
        control = self.control()
        self.assertRegex(control.request(pad + b"p" * (8192 - len(pad) - 2) + b"\n\n"),
                         rb"^OPENED \d+\n\n$")
        self.assertError(control.request(pad + b"p" * (8193 - len(pad) - 2) + b"\n\n"),
                         rb"too long")
        self.assertEqual(read_to_eof(control.sock, control.buffer), b"")

    def test_an_unfinished_head_on_the_control_connection_times_out(self):
        control = self.control()
        control.sock.sendall(b"OPEN 0\n")
        started = time.monotonic()
        self.assertIs(closed_by_peer(control.sock, timeout=5.0), True)
        self.assertGreater(time.monotonic() - started, 0.5)

    def test_a_transfer_port_takes_one_connection_only(self):
        control = self.control()
        port = control.open("0")
        first = self.connect(port)
        first.sendall(b"LS\n\n")
        self.assertEqual(read_head(first)[0], b"OK\n\n")
        with self.assertRaises(ConnectionRefusedError):
            ferrytest.connect(port, timeout=1.0).close()

    def test_open_of_the_control_port_itself_is_refused(self):
        control = self.control()
        self.assertError(control.request("OPEN %d\n\n" % self.port), rb"in use")
        control.open("0")

    def test_names_in_utf8_and_not(self):
        data = b"accents"
        head, _ = self.request("PUT\nFILENAME: \u00e9t\u00e9 \u65e5\u672c.txt\nFILESIZE: 7\n\n"
                               .encode("utf-8"), data)
        self.assertEqual(head, b"OK\nFILESIZE: 7\n\n")
        self.assertEqual(self.read("\u00e9t\u00e9 \u65e5\u672c.txt"), data)
        with open(os.path.join(os.fsencode(self.root), b"bad\xff name"), "wb"):
            pass
        head, body = self.request("LS\n\n")
        self.assertEqual([e[3] for e in parse_listing(body)],
                         [b"bad\\xff name", "\u00e9t\u00e9 \u65e5\u672c.txt".encode("utf-8")])

    def test_ls_through_links_and_trailing_slashes(self):
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/inner.txt", b"x")
        os.symlink("sub", os.path.join(self.root, "link_to_sub"))
        for path in ("sub/", "/sub", "sub//", "link_to_sub", "link_to_sub/", "./sub"):
            with self.subTest(path=path):
                head, body = self.request("LS %s\n\n" % path)
                self.assertEqual(head, b"OK\n\n")
                self.assertEqual([e[3] for e in parse_listing(body)], [b"inner.txt"])


if __name__ == "__main__":
    ferrytest.main()
