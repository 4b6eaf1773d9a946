"""The client's OPEN prefetch in scripts (issue 7).

A transfer asks for the next command's port only once at most a MiB is left to move, so a
transfer that outlasts the server's --transfer-timeout cannot leave that port to expire;
and a prefetched port that is gone anyway (refused) or a prefetched OPEN answered with
ERROR is replaced by a fresh `OPEN 0`, silently. Against ferryd (through the throttling
proxy, and with a slow reader of the client's output) and against the fake server, which
records when each OPEN arrives.
"""

import os
import random
import select
import subprocess
import time
import unittest

import ferrytest
from ferrytest import ServerTestCase, ThrottlingProxy, run_client
from test_client_fake_server import FakeServer

MIB = 1 << 20
OPEN = b"OPEN 0\n\n"
FEATURES = b"FEATURES\n\n"  # sent with the first request of a connection
WAIT = 5.0  # seconds: the bound of each wait for the client


def wait_for(predicate, timeout=WAIT, step=0.02):
    """Polls `predicate` until true or `timeout` s passed; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class PrefetchAgainstFerrydTest(ServerTestCase):
    ferryd_options = ("--transfer-timeout", "2")

    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.small = b"small file\n"
        self.write("small.txt", self.small)

    def local_bytes(self, name):
        with open(os.path.join(self.local, name), "rb") as f:
            return f.read()

    def test_a_get_longer_than_the_port_timeout_then_more_commands(self):
        data = random.Random(3).randbytes(4 * MIB)
        self.write("big.bin", data)
        proxy = ThrottlingProxy(self.port, rate=MIB)  # 4 s for the GET
        self.addCleanup(proxy.stop)
        start = time.monotonic()
        # --plain: the proxy reads the control connection's answers.
        result = run_client(["--plain", "--timeout", "10", "127.0.0.1", str(proxy.port)],
                            input="get big.bin\nget small.txt\nls\n", cwd=self.local,
                            timeout=60)
        elapsed = time.monotonic() - start
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(result.stderr, "")
        self.assertGreaterEqual(elapsed, 3.0, "the GET did not outlast the port timeout")
        self.assertEqual(self.local_bytes("big.bin"), data)
        self.assertEqual(self.local_bytes("small.txt"), self.small)
        self.assertRegex(result.stdout, r"(?m) small\.txt$")
        self.assertEqual(proxy.errors, [])

    def test_a_prefetched_port_that_expired_is_replaced(self):
        """Standard output read slowly: the last MiB of the GET takes about 3 s, so the port
        asked for when it began expires (the server refuses the connection); the next command
        asks for a fresh one and succeeds."""
        data = random.Random(4).randbytes(MIB + MIB // 2)
        self.write("big.bin", data)
        proc = subprocess.Popen(
            [ferrytest.FERRY, "-q", "--timeout", "10", "-c", "get big.bin -; get small.txt",
             "127.0.0.1", str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.local)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        received = bytearray()
        start = time.monotonic()
        deadline = start + 30
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(proc.stdout.fileno(), 64 * 1024)
            if not chunk:
                break
            received += chunk
            if len(received) > MIB // 2:
                time.sleep(0.2)  # 320 KiB/s: the last MiB takes about 3 s
        status = proc.wait(timeout=30)
        stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(status, 0, stderr)
        self.assertEqual(stderr, b"")
        self.assertGreaterEqual(time.monotonic() - start, 2.5)
        self.assertEqual(bytes(received), data)
        self.assertEqual(self.local_bytes("small.txt"), self.small)

    def test_many_small_gets_in_a_script(self):
        count = 300
        for i in range(count):
            self.write("f%03d.txt" % i, b"file %d\n" % i)
        script = "".join("get f%03d.txt\n" % i for i in range(count))
        result = run_client(["-q", "--timeout", "5", "127.0.0.1", str(self.port)],
                            input=script, cwd=self.local, timeout=60)
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(result.stderr, "")
        for i in (0, 1, count // 2, count - 1):
            self.assertEqual(self.local_bytes("f%03d.txt" % i), b"file %d\n" % i)
        self.assertEqual(len(os.listdir(self.local)), count)


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class PrefetchTimingTest(unittest.TestCase):
    """When the client sends the prefetch OPEN, seen by the fake server."""

    def setUp(self):
        self.work = os.path.join(self.enterContext(ferrytest.tempfile.TemporaryDirectory()),
                                 "work")
        os.mkdir(self.work)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()

    def serve(self, **kwargs):
        self.server = FakeServer(**kwargs)
        return self.server

    def opens(self):
        return self.server.control_messages.count(OPEN)

    def ferry(self, *args, stdin=b""):
        return subprocess.run([ferrytest.FERRY, "--plain", "--timeout", "5", "127.0.0.1",
                               str(self.server.port), *args],
                              cwd=self.work, input=stdin, capture_output=True, timeout=30)

    def assert_clean_success(self, result):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"")
        self.assertEqual(self.server.errors, [])

    def test_a_large_get_prefetches_only_for_its_last_mebibyte(self):
        payload = random.Random(5).randbytes(3 * MIB)
        seen = []  # per transfer: the OPENs received before and after its last MiB was sent

        def transfer(conn, head, rest):
            # The client cannot have more than this: more than a MiB is still to come.
            cut = len(payload) - MIB - 1
            conn.sendall(b"OK\nFILESIZE: %d\n\n" % len(payload) + payload[:cut])
            time.sleep(0.3)
            early = self.opens()
            conn.sendall(payload[cut:])
            wait_for(lambda: self.opens() >= 2, timeout=2.0)
            seen.append((early, self.opens()))

        self.serve(transfer=transfer)
        result = self.ferry("-c", "get big.bin; get big.bin again.bin")
        self.assert_clean_success(result)
        # The second GET, the last command, asks for no port ahead.
        self.assertEqual(seen, [(1, 2), (2, 2)])
        self.assertEqual(self.server.control_messages, [FEATURES, OPEN, OPEN, b"QUIT\n\n"])
        with open(os.path.join(self.work, "again.bin"), "rb") as f:
            self.assertEqual(f.read(), payload)

    def test_small_get_ls_and_put_prefetch_before_their_end(self):
        """Each transfer but the last holds its connection open until the next OPEN has come:
        the client must have sent it while the transfer runs (a PUT of at most a MiB even
        before it connects)."""
        with open(os.path.join(self.work, "up.txt"), "wb") as f:
            f.write(b"12345")
        commands = ["ls", "get a.txt", "put up.txt", "ls"]
        seen = []

        def transfer(conn, head, rest):
            number = len(self.server.transfer_heads)  # this one's, from 1
            if head.startswith(b"LS"):
                conn.sendall(b"OK\n\n")
            elif head.startswith(b"GET"):
                conn.sendall(b"OK\nFILESIZE: 5\n\nhello")
            wait_for(lambda: self.opens() >= min(number + 1, len(commands)), timeout=2.0)
            seen.append((head.split(b"\n")[0], self.opens()))
            if head.startswith(b"PUT"):
                ferrytest.read_exact(conn, 5, rest)
                conn.sendall(b"OK\nFILESIZE: 5\n\n")

        self.serve(transfer=transfer)
        result = self.ferry("-c", "; ".join(commands))
        self.assert_clean_success(result)
        self.assertEqual(seen, [(b"LS", 2), (b"GET", 3), (b"PUT", 4), (b"LS", 4)])
        self.assertEqual(self.server.control_messages, [FEATURES] + [OPEN] * 4 + [b"QUIT\n\n"])

    def test_a_script_on_standard_input_prefetches_too(self):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\n")

        self.serve(transfer=transfer)
        result = self.ferry(stdin=b"ls\nls\n")
        self.assert_clean_success(result)
        self.assertEqual(len(self.server.transfer_heads), 2)
        # The second LS used the prefetched port. At the end of the input poll() reports the
        # end as readable, so the second LS asks ahead too: that answer is read before BYE.
        self.assertEqual(self.server.control_messages, [FEATURES] + [OPEN] * 3 + [b"QUIT\n\n"])

    def check_replaced(self, second_answer):
        def transfer(conn, head, rest):
            conn.sendall(b"OK\n\nf 1 2026-11-23T19:56:48Z x\n")

        self.serve(transfer=transfer, open_answers={2: second_answer})
        result = self.ferry("-c", "ls; ls")
        self.assert_clean_success(result)
        self.assertEqual(result.stdout.count(b" x\n"), 2, result.stdout)
        self.assertEqual(self.server.control_messages, [FEATURES] + [OPEN] * 3 + [b"QUIT\n\n"])

    def test_a_refused_prefetched_port_is_replaced_silently(self):
        self.check_replaced(FakeServer.CLOSED_PORT)

    def test_a_refused_prefetch_open_is_asked_again(self):
        self.check_replaced(b"ERROR too many transfer ports open\n\n")

    def test_a_fresh_port_that_refuses_is_an_error(self):
        self.serve(open_answers={1: FakeServer.CLOSED_PORT})
        result = self.ferry("-c", "ls")
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, rb"error: cannot connect to transfer port \d+: "
                                        rb"connection refused")
        self.assertEqual(self.server.control_messages, [FEATURES, OPEN, b"QUIT\n\n"])


if __name__ == "__main__":
    ferrytest.main()
