"""The client's UX of issue 8: Tab completion, the progress line, the address forms, other
kinds of servers named at once, -b batch mode and -v."""

import os
import re
import socket
import threading
import time
import unittest

import ferrytest
from ferrytest import PtyClient, ServerTestCase, ThrottlingProxy, run_client

PROMPT = r"ftp> "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


class GreeterServer:
    """A loopback server that is not ferry: sends `greeting` on connect (an FTP server) or
    `answer` once it got a request (an HTTP server), then closes. Bounded by timeouts."""

    def __init__(self, greeting=b"", answer=b""):
        self.greeting = greeting
        self.answer = answer
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((ferrytest.LOOPBACK, 0))
        self.listener.listen(4)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(2.0)
                try:
                    if self.greeting:
                        conn.sendall(self.greeting)
                    if self.answer:
                        data = b""
                        while b"\n\n" not in data and len(data) < 65536:
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            data += chunk
                        conn.sendall(self.answer)
                    else:
                        for _ in range(100):  # an FTP server waits for commands
                            if not conn.recv(4096):
                                break
                except OSError:
                    pass

    def close(self):
        self.stopping.set()
        self.thread.join(5.0)
        self.listener.close()


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class ForeignServerTest(unittest.TestCase):
    def recognised(self, server, what, interactive=False):
        try:
            start = time.monotonic()
            if interactive:
                client = PtyClient(["127.0.0.1", str(server.port)])
                try:
                    status = client.wait_exit(5.0)
                    output = client.text()
                finally:
                    client.close()
            else:
                result = run_client(["-c", "ls", "127.0.0.1", str(server.port)], timeout=10)
                status, output = result.returncode, result.stderr
            # At first contact the TLS ClientHello goes first: a server that stays silent on it
            # costs up to a second before the plaintext attempt that names it.
            self.assertLess(time.monotonic() - start, 2.0)
            self.assertEqual(status, 2, output)
            self.assertIn("ferry: 127.0.0.1 port %d is %s, not a ferry server" % (server.port, what),
                          output)
        finally:
            server.close()

    def test_ftp_greeting(self):
        self.recognised(GreeterServer(greeting=b"220 ProFTPD ready\r\n"),
                        'an FTP server ("220 ProFTPD ready")')

    def test_ftp_greeting_at_the_prompt(self):
        self.recognised(GreeterServer(greeting=b"220 ProFTPD ready\r\n"),
                        'an FTP server ("220 ProFTPD ready")', interactive=True)

    def test_http_answer(self):
        answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        self.recognised(GreeterServer(answer=answer), 'an HTTP server ("HTTP/1.1 400 Bad Request")')


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class CommandLineTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.write("hello.txt", b"hello, ferry 1.1\n")
        os.mkdir(os.path.join(self.root, "docs"))

    def ferry(self, *args):
        return run_client(list(args), cwd=self.local)

    def test_address_forms(self):
        result = self.ferry("127.0.0.1:%d" % self.port, "-c", "pwd")
        self.assertEqual((result.returncode, result.stdout), (0, "/\n"), result.stderr)
        result = self.ferry("ferry://127.0.0.1:%d/docs" % self.port, "-c", "pwd")
        self.assertEqual((result.returncode, result.stdout), (0, "/docs\n"), result.stderr)
        result = self.ferry("ferry://127.0.0.1:%d/nope" % self.port, "-c", "pwd")
        self.assertEqual(result.returncode, 1)
        self.assertNotIn("/", result.stdout)
        result = self.ferry("127.0.0.1", "-c", "pwd")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no port", result.stderr)

    def batch(self, text):
        path = os.path.join(self.base, "batch.txt")
        with open(path, "w") as f:
            f.write(text)
        return self.ferry("-b", path, "127.0.0.1", str(self.port))

    def test_batch_stops_at_the_first_failure(self):
        result = self.batch("pwd\nget nosuch.txt\nget hello.txt\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn("ftp> pwd\n/\nftp> get nosuch.txt\n", result.stdout)
        self.assertNotIn("ftp> get hello.txt", result.stdout)
        self.assertIn("nosuch.txt", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.local, "hello.txt")))

    def test_batch_ignores_a_failure_of_a_dash_line(self):
        result = self.batch("-get nosuch.txt\n# a comment\n\nget hello.txt\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ftp> get nosuch.txt\n", result.stdout)
        self.assertIn("ftp> get hello.txt\nreceived hello.txt: 17 bytes in", result.stdout)
        with open(os.path.join(self.local, "hello.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello, ferry 1.1\n")

    def test_verbose_traces_the_heads(self):
        result = self.ferry("-v", "127.0.0.1", str(self.port), "-c", "get hello.txt")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stderr.splitlines()
        for expected in ("> FEATURES", "> OPEN 0", "< OK", "< VERSION: 2", "> GET",
                         "> FILENAME: hello.txt", "< FILESIZE: 17", "> QUIT", "< BYE"):
            self.assertIn(expected, lines)
        self.assertTrue(any(re.fullmatch(r"< OPENED \d+", line) for line in lines), lines)
        self.assertEqual(self.ferry("127.0.0.1", str(self.port), "-c", "pwd").stderr, "")


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class PromptTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.write("doc with space.txt", b"spaced out\n")
        os.mkdir(os.path.join(self.root, "sub dir"))
        self.write("sub dir/inner.txt", b"inside\n")
        self.client = None
        self.set_environment(XDG_STATE_HOME=os.path.join(self.base, "state"))

    def tearDown(self):
        if self.client is not None:
            self.client.close()
        super().tearDown()

    def start(self, port=None, columns=200, plain=False):
        self.client = PtyClient((["--plain"] if plain else []) + ["127.0.0.1", str(port or self.port)],
                                cwd=self.local, columns=columns)
        self.client.expect(PROMPT)
        return self.client

    def test_tab_completes_a_remote_name_with_a_space(self):
        client = self.start()
        client.send(b"get do\t")
        client.expect(r"get doc\\ with\\ space\.txt")
        client.send(b"\r")
        client.expect(r"received doc with space\.txt: 11 bytes")
        client.expect(PROMPT)
        with open(os.path.join(self.local, "doc with space.txt"), "rb") as f:
            self.assertEqual(f.read(), b"spaced out\n")

    def test_tab_completes_a_directory_with_a_slash_and_goes_on_inside(self):
        client = self.start()
        client.send(b"get su\t")
        client.expect(r"get sub\\ dir/")
        client.send(b"\t")  # no space after the `/`: the next Tab completes inside it
        client.expect(r"inner\.txt")
        client.send(b"\r")
        client.expect(r"received inner\.txt: 7 bytes")
        client.expect(PROMPT)
        self.assertTrue(os.path.exists(os.path.join(self.local, "inner.txt")))

    def test_tab_completes_command_names_and_double_quoted_names(self):
        client = self.start()
        client.send(b"pw\t\r")
        client.expect(r"pwd\s+/\r?\n")
        client.expect(PROMPT)
        client.send(b'get "doc\t')
        client.expect(r'get "doc with space\.txt"')
        client.send(b"\r")
        client.expect(r"received doc with space\.txt")
        client.expect(PROMPT)

    def test_progress_line_on_a_narrow_terminal(self):
        size = 120000
        self.write("slow.bin", os.urandom(size))
        proxy = ThrottlingProxy(self.port, rate=80 * 1024)
        try:
            client = self.start(port=proxy.port, columns=40, plain=True)  # the proxy reads heads
            start = len(client.raw)
            client.send_line("get slow.bin")
            client.expect(r"received slow\.bin: %d bytes" % size, timeout=20)
            client.expect(PROMPT)
        finally:
            proxy.stop()
        output = client.raw[start:].decode("utf-8", "replace")
        pieces = [ANSI.sub("", piece) for piece in re.split(r"[\r\n]", output)]
        progress = [piece for piece in pieces if "%" in piece]
        self.assertTrue(progress, output)
        self.assertTrue(any(piece.startswith("slow.bin ") for piece in progress),
                        progress)
        for piece in pieces:
            if not piece.startswith("received "):
                self.assertLessEqual(len(piece), 40, repr(piece))
        summaries = [piece for piece in pieces if piece.startswith("received slow.bin:")]
        self.assertEqual(len(summaries), 1, pieces)

    def test_stop_and_continue_redraws_the_line(self):
        client = self.start()
        client.send(b"pw")
        time.sleep(0.2)
        os.kill(client.proc.pid, 19)  # SIGSTOP: as a shell's job control stops it
        os.kill(client.proc.pid, 18)  # SIGCONT: `fg`
        client.expect(r"ftp> pw")      # the prompt and the line typed so far, drawn again
        client.send(b"d\r")
        client.expect(r"\n/\r?\n")


if __name__ == "__main__":
    ferrytest.main()
