"""The client's version-2 commands (issue 8): cd/pwd, mkdir, rmdir, rm, mv, stat, ls -l with
a glob, local commands, options and history; through a pseudo-terminal against ferryd, and
against a version-1 fake server (OPEN, QUIT, GET, PUT, LS only)."""

import os
import stat
import subprocess
import time
import unittest

import ferrytest
from ferrytest import PtyClient, ServerTestCase, run_client
from test_client_fake_server import FakeServer, read_exact

PROMPT = r"ftp> "


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class Version2ClientTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        self.home = os.path.join(self.base, "home")
        os.mkdir(self.local)
        os.mkdir(self.home)
        self.write("docs/a.txt", b"alpha\n")
        self.write("docs/b.md", b"beta\n")
        self.write("docs/c.txt", b"gamma\n")
        self.client = None
        self.set_environment(HOME=self.home, XDG_STATE_HOME=os.path.join(self.base, "state"))

    def tearDown(self):
        if self.client is not None:
            self.client.close()
        super().tearDown()

    def write(self, relative, data):
        os.makedirs(os.path.dirname(os.path.join(self.root, relative)), exist_ok=True)
        super().write(relative, data)

    def start(self):
        self.client = PtyClient(["127.0.0.1", str(self.port)], cwd=self.local)
        self.client.expect(PROMPT)
        return self.client

    def command(self, line, pattern=None, timeout=10.0):
        client = self.client
        start = client.consumed
        client.send_line(line)
        if pattern is not None:
            client.expect(pattern, timeout)
        client.expect(PROMPT, timeout)
        return client.text()[start:client.consumed]

    def quit(self):
        self.client.send_line("quit")
        self.assertEqual(self.client.wait_exit(10.0), 0, self.client.text())
        self.client.close()
        self.client = None

    def test_cd_pwd_and_get_relative_to_it(self):
        self.start()
        self.assertIn("/\n", self.command("pwd"))
        self.command("cd docs")
        self.assertIn("/docs\n", self.command("pwd"))
        self.command("get a.txt")
        with open(os.path.join(self.local, "a.txt"), "rb") as f:
            self.assertEqual(f.read(), b"alpha\n")
        out = self.command("cd a.txt", r"not a directory")
        self.assertIn("error", out)
        self.assertIn("error: no such file or directory", self.command("cd nope"))
        self.assertIn("/docs\n", self.command("pwd"))  # unchanged
        self.command("cd ../../..")
        self.assertIn("/\n", self.command("pwd"))
        self.command("cd /docs")
        self.command("cd")
        self.assertIn("/\n", self.command("pwd"))
        self.quit()

    def test_mkdir_mv_rm_stat_and_ls_with_a_glob(self):
        self.start()
        self.command("mkdir -p new/deep/er")
        self.assertTrue(os.path.isdir(os.path.join(self.root, "new/deep/er")))
        self.assertNotIn("error", self.command("mkdir -p new/deep"))
        self.assertIn("error: exists", self.command("mkdir new"))
        self.write("docs/old.txt", b"old\n")
        refused = self.command("mv docs/a.txt docs/old.txt", r"exists")
        self.assertIn("mv -f", refused)
        self.assertEqual(self.read("docs/old.txt"), b"old\n")
        self.assertNotIn("error", self.command("mv -f docs/a.txt docs/old.txt"))
        self.assertEqual(self.read("docs/old.txt"), b"alpha\n")
        self.command("rename docs/old.txt new")  # into the directory
        self.assertEqual(self.read("new/old.txt"), b"alpha\n")

        out = self.command("stat new/old.txt", r"mode:")
        self.assertIn("size:     6 bytes (6 B)", out)
        self.assertIn("type:     file", out)
        self.assertRegex(out, r"modified: .* \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)")
        self.assertIn("rw-r--r--", out)
        os.symlink("docs/b.md", os.path.join(self.root, "link"))
        self.assertIn("target:   docs/b.md", self.command("stat link", r"target"))

        listing = self.command("ls -l docs/*.txt", r"c\.txt")
        self.assertRegex(listing, r"(?m)^f +6 \d{4}-\d\d-\d\d \d\d:\d\d c\.txt")
        self.assertNotIn("b.md", listing)
        self.assertIn("error: no match", self.command("ls docs/*.pdf"))

        for i in range(5):
            self.write("many/f%d.txt" % i, b"x")
        out = self.command("rm many/f0.txt many/f1.txt many/nope.txt many/f2.txt")
        self.assertIn("error: no such file or directory", out)
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, "many"))),
                         ["f3.txt", "f4.txt"])
        self.command("rm many/*.txt")
        self.assertEqual(os.listdir(os.path.join(self.root, "many")), [])
        self.assertNotIn("error", self.command("rmdir many"))
        self.assertFalse(os.path.exists(os.path.join(self.root, "many")))
        self.quit()

    def test_options_usage_errors_and_put_into_a_folder(self):
        self.start()
        out = self.command("get -r docs")
        self.assertIn("get: unknown option -r", out)
        self.assertIn("usage: get <remote> [local]", out)
        self.assertNotIn("GET", self.server.log())
        self.assertIn("-p  create missing parents", self.command("help mkdir"))
        with open(os.path.join(self.local, "up.txt"), "wb") as f:
            f.write(b"up\n")
        self.command("put up.txt docs")
        self.assertEqual(self.read("docs/up.txt"), b"up\n")
        self.command("put up.txt docs/renamed.txt")
        self.assertEqual(self.read("docs/renamed.txt"), b"up\n")
        self.command("put -- up.txt -dash")
        self.assertEqual(self.read("-dash"), b"up\n")
        self.quit()

    def test_local_commands_tilde_and_history_after_a_restart(self):
        with open(os.path.join(self.home, "from-home.txt"), "wb") as f:
            f.write(b"home\n")
        self.start()
        self.command("cd docs")
        self.command("get a.txt ~")
        self.assertTrue(os.path.exists(os.path.join(self.home, "a.txt")))
        self.command("put ~/from-home.txt")
        self.assertEqual(self.read("docs/from-home.txt"), b"home\n")
        self.command("lcd ~")
        self.assertIn(self.home, self.command("lpwd"))
        self.assertIn("from-home.txt", self.command("lls -l", r"from-home"))
        self.assertIn("shell-said-hi", self.command("!echo shell-said-$((1+0))hi | tr -d 1",
                                                     r"shell-said-hi"))
        self.command("lcd")
        self.quit()

        history = os.path.join(self.base, "state", "ferry", "history")
        self.assertEqual(stat.S_IMODE(os.stat(history).st_mode), 0o600)
        with open(history) as f:
            self.assertIn("get a.txt ~", f.read())
        self.start()
        self.client.send(b"\x1b[A")  # up: the last line of the previous run
        self.client.expect(r"quit")
        self.client.send(b"\x15")  # kill the line
        self.quit()

    def test_scripts_keep_full_lines_and_never_write_history(self):
        result = run_client(["127.0.0.1", str(self.port), "-c", "cd docs; ls; pwd"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^f +6 \d{4}-\d\d-\d\d \d\d:\d\d a\.txt$")
        self.assertIn("/docs\n", result.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.base, "state")))

    def test_rm_of_a_thousand_files_is_one_round_trip(self):
        names = ["bulk/file-%04d.txt" % i for i in range(1000)]
        for name in names:
            self.write(name, b"x")
        start = time.monotonic()
        result = run_client(["127.0.0.1", str(self.port), "-c", "rm bulk/*"], timeout=60)
        elapsed = time.monotonic() - start
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(os.listdir(os.path.join(self.root, "bulk")), [])
        print("\nrm of 1,000 files (LS for the glob, then 1,000 pipelined DELETEs): %.3f s"
              % elapsed)


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class Version1ServerTest(unittest.TestCase):
    """The new client against a server of version 1: FEATURES is an unknown command."""

    def setUp(self):
        self.work = os.path.join(self.enterContext(ferrytest.tempfile.TemporaryDirectory()),
                                 "work")
        os.mkdir(self.work)
        self.stored = {}

        def transfer(conn, head, rest):
            if head.startswith(b"LS"):
                conn.sendall(b"OK\n\nf 6 2026-11-23T19:56:48Z a.txt\nd 1 2026-11-23T19:56:48Z d\n")
            elif head.startswith(b"GET"):
                conn.sendall(b"OK\nFILESIZE: 6\n\nhello\n")
            elif head.startswith(b"PUT"):
                size = int(head.split(b"FILESIZE: ")[1].split(b"\n")[0])
                self.stored[head.split(b"FILENAME: ")[1].split(b"\n")[0]] = read_exact(
                    conn, size, rest)
                conn.sendall(b"OK\nFILESIZE: %d\n\n" % size)

        self.server = FakeServer(transfer=transfer)

    def tearDown(self):
        self.server.close()

    def ferry(self, commands):
        return subprocess.run([ferrytest.FERRY, "127.0.0.1", str(self.server.port), "-c", commands],
                              cwd=self.work, capture_output=True, timeout=30)

    def test_ls_get_put_work_and_mkdir_says_it_is_not_supported(self):
        with open(os.path.join(self.work, "up.txt"), "wb") as f:
            f.write(b"12345")
        result = self.ferry("ls; get a.txt; put up.txt d/; mkdir x; rm a.txt; cd d; pwd; ls")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"error: the server does not support mkdir (it speaks protocol version 1)",
                      result.stderr)
        self.assertIn(b"error: the server does not support rm (it speaks protocol version 1)",
                      result.stderr)
        self.assertIn(b"f 6 2026-11-23 19:56 a.txt", result.stdout)
        self.assertIn(b"/d\n", result.stdout)  # cd checked with an LS of it
        with open(os.path.join(self.work, "a.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello\n")
        self.assertEqual(self.stored, {b"d/up.txt": b"12345"})
        self.assertEqual(self.server.control_messages.count(b"FEATURES\n\n"), 1)
        # Once the version is known, no version-2 request goes out at all.
        self.assertFalse(any(m.startswith((b"MKDIR", b"DELETE", b"STAT"))
                             for m in self.server.control_messages))
        self.assertEqual(self.server.transfer_heads[-1], b"LS d\n\n")
        self.assertEqual(self.server.errors, [])


if __name__ == "__main__":
    ferrytest.main()
