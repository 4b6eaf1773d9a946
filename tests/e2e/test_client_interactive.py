"""The ferry client driven through a real pseudo-terminal, against ferryd."""

import os
import random
import re
import time
import unittest

import ferrytest
from ferrytest import PtyClient, ServerTestCase, ThrottlingProxy, temporaries

PROMPT = r"ftp> "
PART_PREFIX = ".ferry-part-"


def part_files(directory):
    """The client's download temporaries in `directory`."""
    return [name for name in os.listdir(directory) if name.startswith(PART_PREFIX)]


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class InteractiveClientTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.a_data = random.Random(1).randbytes(200000)
        self.write("a.bin", self.a_data)
        self.write("notes.txt", b"some notes\n")
        os.mkdir(os.path.join(self.root, "sub"))
        self.client = None
        # The prompt keeps its history in $XDG_STATE_HOME: the test's, not the user's.
        self.set_environment(XDG_STATE_HOME=os.path.join(self.base, "state"))

    def tearDown(self):
        if self.client is not None:
            self.client.close()
        super().tearDown()

    def start(self, *extra):
        self.client = PtyClient(list(extra) + ["127.0.0.1", str(self.port)], cwd=self.local)
        self.client.expect(PROMPT)
        return self.client

    def command(self, line, pattern=None, timeout=10.0):
        """Types `line`, waits for `pattern` (when given) and for the next prompt; the text
        written in between."""
        client = self.client
        start = client.consumed
        client.send_line(line)
        if pattern is not None:
            client.expect(pattern, timeout)
        client.expect(PROMPT, timeout)
        return client.text()[start:client.consumed]

    def test_a_whole_session(self):
        self.start()
        listing = self.command("ls", r"notes\.txt")
        for name in ("a.bin", "notes.txt", "sub"):
            # Columns on a terminal: names apart by spaces.
            self.assertRegex(listing, r"(?m)(^|\s)%s/?(\s|$)" % re.escape(name))

        summary = self.command("get a.bin", r"\b%d bytes\b" % len(self.a_data))
        self.assertNotIn("error", summary)
        with open(os.path.join(self.local, "a.bin"), "rb") as f:
            self.assertEqual(f.read(), self.a_data)

        up = random.Random(2).randbytes(300000)
        with open(os.path.join(self.local, "up.bin"), "wb") as f:
            f.write(up)
        self.command("put up.bin sub/up.bin", r"\b%d bytes\b" % len(up))
        self.assertEqual(self.read("sub/up.bin"), up)
        self.assertEqual(temporaries(os.path.join(self.root, "sub")), [])

        self.command("ls -l sub", r" up\.bin")
        self.command("", None)  # an empty line: just a new prompt
        help_text = self.command("help", r"\bquit\b")
        for command in ("ls", "get", "put"):
            self.assertRegex(help_text, r"\b%s\b" % command)

        self.client.send_line("quit")
        self.assertEqual(self.client.wait_exit(10.0), 0, self.client.text())
        self.assertIsNotNone(self.server.wait_log(r"session \d+: ended .*: client quit"))

    def test_errors_give_a_message_and_a_new_prompt(self):
        self.start()
        # (patterns skip the echo of the typed line, which starts with the prompt)
        self.command("frobnicate", r"(?m)^(?!ftp> ).*frobnicate.*\bhelp\b")
        text = self.command("get missing.txt", r"error: .*missing\.txt")
        self.assertRegex(text, r"no such file")
        self.assertFalse(os.path.exists(os.path.join(self.local, "missing.txt")))
        self.command("put not-here.txt", r"(?m)^(?!ftp> ).*not-here\.txt")
        # The session goes on after the errors.
        self.command("get notes.txt", r"\b11 bytes\b")
        with open(os.path.join(self.local, "notes.txt"), "rb") as f:
            self.assertEqual(f.read(), b"some notes\n")
        self.client.send_line("quit")
        # Commands failed, but at the prompt each error was shown: leaving is a success.
        self.assertEqual(self.client.wait_exit(10.0), 0, self.client.text())
        self.assertEqual(part_files(self.local), [])
        self.assertNotRegex(self.server.log(), r"PUT \"not-here")

    def test_ctrl_d_quits(self):
        self.start()
        self.command("ls", r"notes\.txt")
        self.client.send(b"\x04")
        self.assertEqual(self.client.wait_exit(10.0), 0, self.client.text())
        self.assertIsNotNone(self.server.wait_log(r"session \d+: ended"))

    def test_ctrl_c_at_the_prompt_discards_the_line(self):
        client = self.start()
        if not client.has_ctty:
            self.skipTest("no setsid(1) to give the client a controlling terminal")
        client.send(b"get notes")
        client.expect(r"get notes")
        client.send(b"\x03")
        client.expect(PROMPT)
        self.command("ls", r"notes\.txt")
        self.assertFalse(os.path.exists(os.path.join(self.local, "notes")))
        self.assertFalse(os.path.exists(os.path.join(self.local, "notes.txt")))
        self.assertNotRegex(client.text(), r"error|unknown command")
        client.send_line("exit")
        self.assertEqual(client.wait_exit(10.0), 0, client.text())

    def test_prompt_only_on_a_terminal(self):
        result = ferrytest.run_client(["127.0.0.1", str(self.port)], input="ls\n", cwd=self.local)
        self.assertEqual(result.returncode, 0, result)
        self.assertNotIn("ftp>", result.stdout + result.stderr)


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class CancelTransferTest(ServerTestCase):
    """Ctrl-C during a transfer, with ferryd behind a throttling proxy so that the transfer
    is still under way when the Ctrl-C comes."""

    SIZE = 64 << 20  # at 512 KiB/s: two minutes, were it not cancelled

    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.write("notes.txt", b"some notes\n")
        self.proxy = ThrottlingProxy(self.port)
        self.addCleanup(self.proxy.stop)  # also when setUp ends early (a skip)
        # --plain: the proxy reads the control connection's answers.
        self.client = PtyClient(["--plain", "127.0.0.1", str(self.proxy.port)], cwd=self.local)
        self.addCleanup(self.client.close)
        if not self.client.has_ctty:
            self.skipTest("no setsid(1) to give the client a controlling terminal")
        self.client.expect(PROMPT)

    def tearDown(self):
        self.client.close()
        self.proxy.stop()
        super().tearDown()
        self.assertEqual(self.proxy.errors, [])

    def interrupt_when(self, under_way):
        self.assertTrue(self.wait_until(under_way, timeout=5.0), self.client.text())
        time.sleep(0.3)
        self.client.send(b"\x03")
        self.client.expect(r"cancelled", timeout=5.0)
        self.client.expect(PROMPT, timeout=5.0)

    def finish(self):
        # The session goes on after the cancel.
        self.client.send_line("get notes.txt")
        self.client.expect(r"\b11 bytes\b")
        self.client.expect(PROMPT)
        self.client.send_line("quit")
        # One was cancelled, but at the prompt leaving is a success.
        self.assertEqual(self.client.wait_exit(10.0), 0, self.client.text())

    def test_ctrl_c_cancels_a_get(self):
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.truncate(self.SIZE)  # sparse: no disk space on the server's side
        self.client.send_line("get big.bin")
        self.interrupt_when(lambda: part_files(self.local))
        # Nothing partial under the target's name, and no temporary file left.
        self.wait_until(lambda: not part_files(self.local))
        self.assertEqual(os.listdir(self.local), [])
        self.finish()
        self.assertEqual(sorted(os.listdir(self.local)), ["notes.txt"])

    def test_ctrl_c_cancels_a_put(self):
        with open(os.path.join(self.local, "big.bin"), "wb") as f:
            f.truncate(self.SIZE)
        self.write("big.bin", b"the older version")
        self.client.send_line("put big.bin")
        self.interrupt_when(lambda: temporaries(self.root))
        # What the client had handed to its socket before the Ctrl-C still trickles through
        # the proxy; let it through at full speed, then the close.
        self.proxy.rate = 1 << 40
        # The server drops the upload: the older file stays, no temporary file is left.
        self.assertIsNotNone(self.server.wait_log(r"PUT \"big\.bin\".*upload discarded"),
                             self.server.log())
        self.assertTrue(self.wait_until(lambda: not temporaries(self.root)),
                        temporaries(self.root))
        self.assertEqual(self.read("big.bin"), b"the older version")
        self.finish()


if __name__ == "__main__":
    ferrytest.main()
