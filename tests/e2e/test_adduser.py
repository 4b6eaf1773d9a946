"""`ferryd adduser FILE NAME [--root DIR] [--read-only]` (issue 9, section 2): the users file
written atomically with mode 0600, the password only as its Argon2id hash, read from stdin in
scripts and twice without echo at a terminal; a malformed file is refused by line number."""

import os
import pty
import re
import select
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

import ferrytest

LINE_RE = re.compile(r"^([^:]+):(\$argon2id\$[^:]+):(rw|ro):(.*)$")


class AddUserTest(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="ferry-adduser-")
        self.addCleanup(shutil.rmtree, self.base, True)
        self.users = os.path.join(self.base, "users")

    def adduser(self, *args, password="s3cret pass\n"):
        return subprocess.run([ferrytest.FERRYD, "adduser", self.users] + list(args),
                              input=password, capture_output=True, text=True, timeout=30)

    def lines(self):
        with open(self.users) as f:
            return f.read().splitlines()

    def test_adds_a_user_with_mode_0600_and_only_the_hash(self):
        result = self.adduser("alice", "--root", "home/alice")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("added alice", result.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(self.users).st_mode), 0o600)
        [line] = self.lines()
        match = LINE_RE.match(line)
        self.assertTrue(match, line)
        self.assertEqual(match.group(1, 3, 4), ("alice", "rw", "home/alice"))
        with open(self.users) as f:
            self.assertNotIn("s3cret", f.read())
        self.assertEqual([n for n in os.listdir(self.base) if n != "users"], [])

    def test_changes_a_user_and_keeps_the_others_and_the_comments(self):
        self.assertEqual(self.adduser("alice").returncode, 0)
        with open(self.users, "a") as f:
            f.write("# a comment\n")
        self.assertEqual(self.adduser("bob", "--read-only").returncode, 0)
        first_alice = self.lines()[0]
        result = self.adduser("alice", "--read-only", "--root", "a", password="other\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("changed alice", result.stderr)
        lines = self.lines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[1], "# a comment")
        self.assertEqual(LINE_RE.match(lines[0]).group(1, 3, 4), ("alice", "ro", "a"))
        self.assertNotEqual(lines[0], first_alice)
        self.assertEqual(LINE_RE.match(lines[2]).group(1, 3), ("bob", "ro"))

    def test_a_malformed_file_is_refused_by_line_number_and_left_alone(self):
        with open(self.users, "w") as f:
            f.write("# users\nalice:plaintext:rw:.\n")
        result = self.adduser("bob")
        self.assertEqual(result.returncode, 1)
        self.assertIn("line 2: the password hash is not an Argon2id hash", result.stderr)
        self.assertEqual(self.lines(), ["# users", "alice:plaintext:rw:."])

    def test_bad_names_roots_and_passwords_are_refused(self):
        for args, password, message in [
            (["a:b"], "x\n", "bad user name"),
            (["alice", "--root", "../outside"], "x\n", "--root: the root must not contain .."),
            (["alice", "--root", "/etc"], "x\n", "--root: the root must be a folder inside"),
            (["alice"], "", "no password on standard input"),
            (["alice"], "\n", "an empty password is not allowed"),
        ]:
            result = self.adduser(*args, password=password)
            self.assertEqual(result.returncode, 1, (args, result.stderr))
            self.assertIn(message, result.stderr)
            self.assertFalse(os.path.exists(self.users))
        self.assertEqual(self.adduser().returncode, 2)  # no NAME: a usage error

    def test_at_a_terminal_the_password_is_asked_twice_without_echo(self):
        pid, master = pty.fork()
        if pid == 0:
            os.execv(ferrytest.FERRYD, [ferrytest.FERRYD, "adduser", self.users, "carol"])
        output = b""

        def expect(text, deadline=time.monotonic() + 20):
            nonlocal output
            while text not in output and time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.5)
                if ready:
                    try:
                        output += os.read(master, 4096)
                    except OSError:
                        break
            self.assertIn(text, output)

        try:
            expect(b"Password for carol: ")
            os.write(master, b"typed secret\n")
            expect(b"Again: ")
            os.write(master, b"typed secret\n")
            expect(b"added carol")
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(master)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, output)
        self.assertNotIn(b"typed secret", output)  # not echoed
        self.assertEqual(LINE_RE.match(self.lines()[0]).group(1), "carol")


if __name__ == "__main__":
    unittest.main()
