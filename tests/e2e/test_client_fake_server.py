"""The ferry client against a fake server that checks every byte the client sends.

The fake server speaks the protocol of docs/PROTOCOL.md from scripted handlers, so each
test can make the server misbehave on purpose: refuse, lie about FILESIZE, never answer.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

FERRY = os.path.abspath(os.environ.get("FERRY", "build/ferry"))
WAIT = 10  # seconds: the bound of every wait in the fake server
RUN_TIMEOUT = 30


def read_head(conn):
    """Reads one message head (up to and including the empty line); returns (head, rest)."""
    data = b""
    while b"\n\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a complete head: %r" % data)
        data += chunk
    end = data.index(b"\n\n") + 2
    return data[:end], data[end:]


def read_exact(conn, count, already=b""):
    data = already
    while len(data) < count:
        chunk = conn.recv(min(1 << 20, count - len(data)))
        if not chunk:
            break
        data += chunk
    return data


class FakeServer:
    """Control connection: `OPEN 0` -> `OPENED <port>` (or a scripted refusal), `QUIT` -> `BYE`.
    Each opened port accepts one connection and hands it to `transfer(conn, head, rest)`."""

    CLOSED_PORT = "closed port"  # an `open_answers` entry: OPENED names a port nobody listens on

    def __init__(self, transfer=None, open_answer=None, answer_open=True,
                 close_control_after_open=False, open_answers=None):
        self.transfer = transfer
        self.open_answer = open_answer
        self.open_answers = dict(open_answers or {})  # OPEN number (from 1) -> answer
        self.opens = 0
        self.answer_open = answer_open
        self.close_control_after_open = close_control_after_open
        self.control_messages = []  # every head received on a control connection
        self.transfer_heads = []
        self.errors = []
        self.control_connections = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.threads = []
        self._spawn(self._accept_loop)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=self._guard, args=(target,) + args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _guard(self, target, *args):
        try:
            target(*args)
        except Exception as e:  # recorded, reported by the test
            self.errors.append(repr(e))

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            self.control_connections += 1
            self._spawn(self._control, conn)

    def _control(self, conn):
        conn.settimeout(WAIT)
        rest = b""
        with conn:
            while True:
                while b"\n\n" not in rest:
                    try:
                        chunk = conn.recv(4096)
                    except socket.timeout:
                        return
                    if not chunk:
                        return
                    rest += chunk
                end = rest.index(b"\n\n") + 2
                head, rest = rest[:end], rest[end:]
                self.control_messages.append(head)
                if head == b"QUIT\n\n":
                    conn.sendall(b"BYE\n\n")
                    return
                if head != b"OPEN 0\n\n":
                    conn.sendall(b"ERROR unknown command\n\n")
                    continue
                if not self.answer_open:
                    continue  # the silent server: never answers
                self.opens += 1
                scripted = self.open_answers.get(self.opens)
                if scripted == self.CLOSED_PORT:
                    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    probe.bind(("127.0.0.1", 0))
                    closed_port = probe.getsockname()[1]
                    probe.close()
                    conn.sendall(b"OPENED %d\n\n" % closed_port)
                    continue
                if scripted is not None:
                    conn.sendall(scripted)
                    continue
                if self.open_answer is not None:
                    conn.sendall(self.open_answer)
                    continue
                data = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                data.bind(("127.0.0.1", 0))
                data.listen(1)
                data.settimeout(WAIT)
                conn.sendall(b"OPENED %d\n\n" % data.getsockname()[1])
                self._spawn(self._serve_transfer, data)
                if self.close_control_after_open:
                    return

    def _serve_transfer(self, data):
        with data:
            conn, _ = data.accept()
        conn.settimeout(WAIT)
        with conn:
            head, rest = read_head(conn)
            self.transfer_heads.append(head)
            if self.transfer:
                self.transfer(conn, head, rest)

    def close(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(WAIT)
        self.listener.close()


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.work = os.path.join(self.tmp.name, "work")
        os.mkdir(self.work)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()
        self.tmp.cleanup()

    def serve(self, **kwargs):
        self.server = FakeServer(**kwargs)
        return self.server

    def ferry(self, *args, stdin=None, port=None):
        port = self.server.port if port is None else port
        # --plain: the fake server speaks the protocol in clear only (test_tls.py covers the
        # fallback to such a server).
        return subprocess.run([FERRY, "--plain", "127.0.0.1", str(port), *args], cwd=self.work,
                              input=stdin if stdin is not None else b"",
                              capture_output=True, timeout=RUN_TIMEOUT)

    def assert_times_out(self, within, *args):
        """ferry, run with args, fails with "timed out" in less than `within` seconds."""
        start = time.monotonic()
        result = self.ferry(*args)
        self.assertLess(time.monotonic() - start, within)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"timed out", result.stderr)

    def work_files(self):
        return sorted(os.listdir(self.work))

    def assert_server_ok(self):
        self.assertEqual(self.server.errors, [])

    # ---- LS ----

    def test_ls_prints_aligned_listing_and_never_writes_hostile_names(self):
        body = (b"OK\n\n"
                b"d 4096 2026-11-23T19:56:48Z docs\n"
                b"f 1048576 2025-01-02T03:04:05Z big file.bin\n"
                b"f 7 2025-01-02T03:04:05Z ../x\n"
                b"f 1 2025-01-02T03:04:05Z a\\nb\\x1b[2J\n")

        def transfer(conn, head, rest):
            conn.sendall(body)

        self.serve(transfer=transfer)
        result = self.ferry("-c", 'ls; ls "my dir"')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.transfer_heads, [b"LS\n\n", b"LS my dir\n\n"])
        # FEATURES goes out with the first OPEN; this server answers it as version 1 does.
        self.assertEqual(self.server.control_messages,
                         [b"FEATURES\n\n", b"OPEN 0\n\n", b"OPEN 0\n\n", b"QUIT\n\n"])
        lines = result.stdout.decode().splitlines()
        # Sorted by name; a name with controls is shown in $'...' quotes, to be typed back.
        self.assertEqual(lines[:4], [
            "f       7 2025-01-02 03:04 ../x",
            "f       1 2025-01-02 03:04 $'a\\nb\\x1b[2J'",
            "f 1048576 2025-01-02 03:04 big file.bin",
            "d    4096 2026-11-23 19:56 docs/",
        ])
        self.assertNotIn(b"\x1b", result.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x")))
        self.assertEqual(self.work_files(), [])
        self.assert_server_ok()

    def test_ls_malformed_line_fails_naming_the_line(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\nd 1 2026-11-23T19:56:48Z ok\nf nope 2026-11-23T19:56:48Z bad\n")

        self.serve(transfer=transfer)
        result = self.ferry("-c", "ls")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"line 2", result.stderr)

    # ---- GET ----

    def test_get_writes_exactly_the_announced_bytes(self):
        payload = os.urandom(3 * 1024 * 1024 + 17)

        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % len(payload) + payload)

        self.serve(transfer=transfer)
        os.mkdir(os.path.join(self.work, "into"))
        result = self.ferry("-c", 'get dir/a.bin; get "my file.txt" copy; get dir/a.bin into')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.transfer_heads, [
            b"GET\nFILENAME: dir/a.bin\n\n",
            b"GET\nFILENAME: my file.txt\n\n",
            b"GET\nFILENAME: dir/a.bin\n\n",
        ])
        for name in ["a.bin", "copy", "into/a.bin"]:
            with open(os.path.join(self.work, name), "rb") as f:
                self.assertEqual(f.read(), payload, name)
        self.assertEqual(self.work_files(), ["a.bin", "copy", "into"])
        self.assertRegex(result.stdout.decode(),
                         r"received [^:]+: %d bytes in \d+\.\d{3} s \(" % len(payload))
        self.assert_server_ok()

    def test_get_to_stdout_and_dev_null(self):
        payload = b"hello\n" * 1000

        def transfer(conn, head, rest):
            conn.sendall(b"OK\r\nFILESIZE: %d\r\n\r\n" % len(payload) + payload)

        self.serve(transfer=transfer)
        result = self.ferry("-q", "-c", "get a -; get a /dev/null")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, payload)
        self.assertEqual(self.work_files(), [])

    def test_get_error_answer_is_printed(self):
        def transfer(conn, head, rest):
            conn.sendall(b"ERROR no such file: nope.txt\n\n")

        self.serve(transfer=transfer)
        result = self.ferry("-c", "get nope.txt")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"error: no such file: nope.txt", result.stderr)
        self.assertEqual(self.work_files(), [])

    def check_lying_size(self, announced, sent, message):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % announced + b"x" * sent)

        self.serve(transfer=transfer)
        with open(os.path.join(self.work, "old.txt"), "wb") as f:
            f.write(b"old content")
        result = self.ferry("-c", "get new.txt; get x old.txt")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.count(message), 2, result.stderr)
        self.assertEqual(self.work_files(), ["old.txt"])  # no temporary file either
        with open(os.path.join(self.work, "old.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old content")

    def test_get_fewer_bytes_than_announced_fails_and_leaves_nothing(self):
        self.check_lying_size(1000, 500, b"connection closed after 500 of 1000 bytes")

    def test_get_more_bytes_than_announced_fails_and_leaves_nothing(self):
        self.check_lying_size(1000, 1010, b"more than the announced 1000 bytes")

    def test_get_more_bytes_in_a_later_packet(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: 4\n\nabcd")
            time.sleep(0.2)
            conn.sendall(b"efgh")

        self.serve(transfer=transfer)
        result = self.ferry("-c", "get late.txt")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"more than the announced 4 bytes", result.stderr)
        self.assertEqual(self.work_files(), [])

    def test_get_from_a_slow_server_is_not_held_back(self):
        """The client asks the kernel to wake it only once a MiB has come (SO_RCVLOWAT), but
        takes what there is every 100 ms: 64 KiB per 50 ms (a MiB in 0.8 s) is progress,
        never a timeout of 0.5 s."""
        payload = os.urandom(1536 * 1024)

        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % len(payload))
            for i in range(0, len(payload), 64 * 1024):
                conn.sendall(payload[i:i + 64 * 1024])
                time.sleep(0.05)

        self.serve(transfer=transfer)
        result = self.ferry("--timeout", "0.5", "-c", "get slow.bin")
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(self.work, "slow.bin"), "rb") as f:
            self.assertEqual(f.read(), payload)

    def test_get_from_a_server_that_stalls_midway_times_out(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % (4 << 20) + b"x" * (600 << 10))
            time.sleep(2.5)

        self.serve(transfer=transfer)
        self.assert_times_out(2.0, "--timeout", "0.5", "-c", "get stall.bin")
        self.assertEqual(self.work_files(), [])

    # ---- PUT ----

    def test_put_sends_head_then_exactly_the_file(self):
        payload = os.urandom(2 * 1024 * 1024 + 3)
        with open(os.path.join(self.work, "up.bin"), "wb") as f:
            f.write(payload)
        received = []

        def transfer(conn, head, rest):
            size = int(head.split(b"FILESIZE: ")[1].split(b"\n")[0])
            data = read_exact(conn, size, rest)
            received.append(data)
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % len(data))

        self.serve(transfer=transfer)
        result = self.ferry("-c", "put up.bin; put up.bin 'remote dir/r.bin'")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.transfer_heads, [
            b"PUT\nFILENAME: up.bin\nFILESIZE: %d\n\n" % len(payload),
            b"PUT\nFILENAME: remote dir/r.bin\nFILESIZE: %d\n\n" % len(payload),
        ])
        self.assertEqual(received, [payload, payload])
        self.assertIn(b"sent up.bin: %d bytes in" % len(payload), result.stdout)
        self.assert_server_ok()

    def test_put_missing_or_non_regular_file_never_contacts_the_server(self):
        self.serve()
        result = self.ferry("-c", "put nothing-here.txt; put /dev/null; put .")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"nothing-here.txt", result.stderr)
        self.assertIn(b"not a regular file", result.stderr)
        self.assertEqual(self.server.control_messages, [b"QUIT\n\n"])

    def test_put_early_error_from_the_server_is_printed(self):
        with open(os.path.join(self.work, "big.bin"), "wb") as f:
            f.write(b"\0" * (32 * 1024 * 1024))

        def transfer(conn, head, rest):
            conn.sendall(b"ERROR read-only server\n\n")

        self.serve(transfer=transfer)
        result = self.ferry("-c", "put big.bin")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"error: read-only server", result.stderr)

    # ---- control connection ----

    def test_open_refused_prints_the_error_and_fails(self):
        self.serve(open_answer=b"ERROR too many transfer ports open\n\n")
        result = self.ferry("-c", "ls; get a; help")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.count(b"error: too many transfer ports open\n"), 2)
        self.assertIn(b"commands:", result.stdout)

    def test_server_that_never_answers_times_out(self):
        self.serve(answer_open=False)
        self.assert_times_out(8, "--timeout", "0.5", "-c", "ls")

    def test_closed_control_connection_is_reconnected_once(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\n")

        self.serve(transfer=transfer, close_control_after_open=True)
        result = self.ferry("-c", "ls; ls")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"reconnecting", result.stderr)
        self.assertEqual(self.server.control_connections, 2)

    # ---- modes and exit codes ----

    def test_command_mode_exit_codes(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\n")

        self.serve(transfer=transfer)
        self.assertEqual(self.ferry("-c", "ls; help get").returncode, 0)
        failed = self.ferry("-c", "frobnicate; ls")
        self.assertEqual(failed.returncode, 1)
        self.assertIn(b"unknown command: frobnicate (type 'help' for a list)", failed.stderr)
        self.assertEqual(len(self.server.transfer_heads), 2)  # the ls after it still ran
        wrong_args = self.ferry("-c", "get")
        self.assertEqual(wrong_args.returncode, 1)
        self.assertIn(b"usage: get <remote> [local]", wrong_args.stderr)
        self.assertEqual(self.ferry("-c", "quit; frobnicate").returncode, 0)
        self.assertEqual(self.ferry("-c", 'get "unterminated').returncode, 2)

    def test_script_mode_exit_codes(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\n")

        self.serve(transfer=transfer)
        ok = self.ferry(stdin=b"ls\n\n# a comment\nhelp\n")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertNotIn(b"ftp>", ok.stdout)
        failed = self.ferry(stdin=b"nosuch\nls\n")
        self.assertEqual(failed.returncode, 1)
        self.assertEqual(len(self.server.transfer_heads), 2)
        self.assertEqual(self.server.control_messages[-1], b"QUIT\n\n")

    def test_usage_errors_and_unreachable_server_exit_2(self):
        self.serve()
        self.assertEqual(self.ferry("--no-such-option").returncode, 2)
        self.assertEqual(self.ferry(port=0).returncode, 2)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
        probe.close()
        result = self.ferry("-c", "ls", port=closed_port)
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"ferry: cannot connect to 127.0.0.1 port %d:" % closed_port,
                      result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
