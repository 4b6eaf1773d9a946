"""`ferryd --users FILE` (issue 9, section 2; docs/PROTOCOL.md, "LOGIN"): logins required
before anything else, the same answer and the same time whatever was wrong, a second's wait
after a failure, the lock-out of an address after more than 5 failures a minute, transfer
tokens required, every path of a user inside the user's own folder, read-only users, the
user's name on every log line and the password on none, a bounded flood of logins, and the
start refusing a bad users file. The users file is made once, by `ferryd adduser` with the
passwords on standard input. Without TLS yet, the servers run with --allow-plain-login.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import unittest

import ferrytest
from ferrytest import (Control, Ferryd, ServerTestCase, closed_by_peer, read_head, snapshot,
                       transfer)

PASSWORDS = {"alice": "alice's correct horse", "bob": "bob battery", "carol": "carol staple"}
ROOTS = {"alice": "alice", "bob": "bob", "carol": "carol"}
READ_ONLY = {"carol"}
TOKEN_RE = re.compile(rb"OPENED (\d+)\nTOKEN: ([0-9a-f]{32})\n\n")
BOB_SECRET = b"bob's secret, 37 bytes long, unique!\n"
TOP_SECRET = b"the served root's own file, never a user's\n"

_users_text = None


def users_text():
    """The users file's text, made once for the whole run (each hash costs ~0.1 s)."""
    global _users_text
    if _users_text is None:
        folder = tempfile.mkdtemp(prefix="ferry-users-")
        try:
            path = os.path.join(folder, "users")
            for name, password in PASSWORDS.items():
                args = [ferrytest.FERRYD, "adduser", path, name, "--root", ROOTS[name]]
                if name in READ_ONLY:
                    args.append("--read-only")
                subprocess.run(args, input=password + "\n", text=True, capture_output=True,
                               timeout=30, check=True)
            with open(path) as f:
                _users_text = f.read()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return _users_text


def login_head(name, password):
    return "LOGIN\nUSER: %s\nPASSWORD: %s\n\n" % (name, password)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM for %d" % pid)


class LoginTestCase(ServerTestCase):
    """A server with users alice (root/alice), bob (root/bob) and carol (root/carol,
    read-only), plaintext logins allowed."""

    login_options = ("--allow-plain-login",)

    def start_server(self, options=(), root=None):
        root = root or self.root
        for folder in ROOTS.values():
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        self.users_file = os.path.join(self.base, "users")
        with open(self.users_file, "w") as f:
            f.write(users_text())
        os.chmod(self.users_file, 0o600)
        return super().start_server(
            ["--users", self.users_file] + list(self.login_options) + list(options), root)

    def login(self, name="alice", source=None):
        control = self.control(source=source)
        self.assertEqual(control.request(login_head(name, PASSWORDS[name])), b"OK\n\n")
        return control

    def open_with_token(self, control):
        head = control.request("OPEN 0\nTOKEN: yes\n\n")
        match = TOKEN_RE.fullmatch(head)
        self.assertTrue(match, "OPEN with TOKEN: yes answered %r" % head)
        return int(match.group(1)), match.group(2).decode()

    def transfer(self, control, head, data=b""):
        """One transfer of the session, with its token: (answer head, body)."""
        port, token = self.open_with_token(control)
        verb, _, rest = head.partition("\n")
        return transfer(port, "%s\nTOKEN: %s\n%s" % (verb, token, rest), data)


class LoginTest(LoginTestCase):
    def test_a_login_and_what_features_say(self):
        control = self.control()
        self.assertEqual(control.request("FEATURES\n\n"),
                         b"OK\nVERSION: 2\nTOKENS: yes\nLOGIN: required\n\n")
        self.assertEqual(control.request(login_head("alice", PASSWORDS["alice"])), b"OK\n\n")
        self.assertEqual(control.request("LOGIN\nUSER: alice\nPASSWORD: x\n\n"),
                         b"ERROR already logged in\n\n")
        self.assertTrue(control.request("STAT\n\n").startswith(b"OK\nTYPE: d\n"))
        self.assertTrue(self.server.wait_log(r"session \d+ \(alice\): logged in \(read-write"))
        self.assertIn("logins required: 3 user(s)", self.server.log())

    def test_every_failure_is_the_same_answer(self):
        """Unknown user, wrong password, malformed LOGINs: byte for byte the same answer.
        Each from an address of its own, so that no lock-out comes in between."""
        attempts = [
            login_head("nobody", "whatever"),
            login_head("alice", "wrong"),
            login_head("alice", PASSWORDS["bob"]),
            "LOGIN\nUSER: alice\n\n",
            "LOGIN\nPASSWORD: %s\n\n" % PASSWORDS["alice"],
            "LOGIN\nUSER:\nPASSWORD: x\n\n",
            "LOGIN alice\nUSER: alice\nPASSWORD: %s\n\n" % PASSWORDS["alice"],
            "LOGIN\n\n",
        ]
        for i, attempt in enumerate(attempts):
            control = self.control(source="127.0.2.%d" % (i + 1))
            self.assertEqual(control.request(attempt), b"ERROR login failed\n\n", attempt)
            control.close()

    def test_unknown_users_and_wrong_passwords_take_the_same_time(self):
        """Medians of 7 each, alternated, each on a fresh session from an address of its own:
        within 20 ms (an Argon2id check takes 50-100 ms)."""
        times = {"unknown": [], "wrong": []}
        for i in range(14):
            kind = "unknown" if i % 2 == 0 else "wrong"
            head = login_head("mallory" if kind == "unknown" else "alice", "guess %d" % i)
            control = self.control(source="127.0.3.%d" % (i + 1))
            started = time.monotonic()
            answer = control.request(head)
            times[kind].append(time.monotonic() - started)
            self.assertEqual(answer, b"ERROR login failed\n\n")
            control.close()
        unknown, wrong = statistics.median(times["unknown"]), statistics.median(times["wrong"])
        print("[login] median failure: unknown user %.1f ms, wrong password %.1f ms"
              % (unknown * 1000, wrong * 1000))
        self.assertLess(abs(unknown - wrong), 0.020, times)

    def test_a_failure_holds_the_next_answer_for_a_second(self):
        control = self.control()
        started = time.monotonic()
        control.sock.sendall((login_head("alice", "wrong") + "FEATURES\n\n").encode())
        self.assertEqual(control.answer(), b"ERROR login failed\n\n")
        failed = time.monotonic()
        self.assertTrue(control.answer().startswith(b"OK\nVERSION: 2\n"))
        waited = time.monotonic() - failed
        self.assertGreaterEqual(waited, 0.9)
        self.assertLess(waited, 3.0)
        self.assertLess(failed - started, 1.0)  # the failure itself is not held

    def test_requests_before_a_login_are_refused(self):
        control = self.control()
        for request in ("STAT\n\n", "OPEN 0\n\n", "OPEN 0\nTOKEN: yes\n\n", "MKDIR x\n\n",
                        "RMDIR alice\n\n", "DELETE alice\n\n", "RENAME\nFROM: alice\nTO: y\n\n",
                        "LIST\n\n", "OPEN x\n\n"):
            self.assertEqual(control.request(request), b"ERROR login required\n\n", request)
        self.assertEqual(sorted(os.listdir(self.root)), sorted(ROOTS.values()))
        self.assertEqual(control.request("QUIT\n\n"), b"BYE\n\n")

    def test_more_than_five_failures_lock_the_address_out(self):
        source = "127.0.0.9"
        logged_in = self.login("alice", source=source)
        failing = []
        for i in range(5):
            control = self.control(source=source)
            self.assertEqual(control.request(login_head("alice", "guess %d" % i)),
                             b"ERROR login failed\n\n")
            failing.append(control)
        sixth = self.control(source=source)
        self.assertEqual(sixth.request(login_head("alice", "guess 6")), b"ERROR login failed\n\n")
        # Every session of the address is closed, the logged-in one too.
        for control in [sixth, logged_in] + failing:
            self.assertIs(closed_by_peer(control.sock), True)
        # New sessions from it are refused at once; other addresses are served.
        refused = self.control(source=source)
        self.assertEqual(read_head(refused.sock)[0],
                         b"ERROR too many failed logins from 127.0.0.9: try again in 60 s\n\n")
        self.assertIs(closed_by_peer(refused.sock), True)
        self.login("alice", source="127.0.0.10")
        self.assertTrue(self.server.wait_log(r"more than 5 failed logins within 60 s from "
                                             r"127\.0\.0\.9: its sessions are closed"))
        self.assertEqual(self.server.log().count("failed logins within"), 1)
        self.assertTrue(self.server.wait_log(r"\(alice\): ended after .*locked out"))

    def test_transfer_tokens_are_required(self):
        self.write("alice/mine.txt", b"alice's file\n")
        control = self.login("alice")
        self.assertEqual(control.request("OPEN 0\n\n"),
                         b"ERROR this server requires transfer tokens (send TOKEN: yes with OPEN)"
                         b"\n\n")
        port, token = self.open_with_token(control)
        self.assertEqual(transfer(port, "GET\nFILENAME: mine.txt\nTOKEN: %s\n\n" % token),
                         (b"OK\nFILESIZE: 13\n\n", b"alice's file\n"))
        # Reused, missing, wrong: refused, nothing read.
        with self.assertRaises(OSError):
            transfer(port, "GET\nFILENAME: mine.txt\nTOKEN: %s\n\n" % token, timeout=2)
        for presented in ("", "TOKEN: %s\n" % ("0" * 32)):
            port, _ = self.open_with_token(control)
            head, body = transfer(port, "GET\nFILENAME: mine.txt\n%s\n" % presented)
            self.assertEqual(head, b"ERROR wrong transfer token\n\n")
            self.assertEqual(body, b"")
        # Another session's token is no good either.
        other = self.login("alice")
        port, _ = self.open_with_token(control)
        _, other_token = self.open_with_token(other)
        self.assertEqual(transfer(port, "GET\nFILENAME: mine.txt\nTOKEN: %s\n\n" % other_token)[0],
                         b"ERROR wrong transfer token\n\n")

    def test_a_read_only_user_changes_nothing(self):
        self.write("carol/doc.txt", b"carol's document\n")
        os.mkdir(os.path.join(self.root, "carol", "empty"))
        before = snapshot(self.root)
        control = self.login("carol")
        for request in ("MKDIR new\n\n", "RMDIR empty\n\n", "DELETE doc.txt\n\n",
                        "RENAME\nFROM: doc.txt\nTO: moved.txt\n\n"):
            self.assertEqual(control.request(request), b"ERROR read-only\n\n", request)
        head, _ = self.transfer(control, "PUT\nFILENAME: doc.txt\nFILESIZE: 3\n\n", b"new")
        self.assertEqual(head, b"ERROR read-only\n\n")
        self.assertEqual(self.transfer(control, "GET\nFILENAME: doc.txt\n\n"),
                         (b"OK\nFILESIZE: 17\n\n", b"carol's document\n"))
        self.assertEqual(snapshot(self.root), before)

    def test_the_log_names_the_user_and_never_the_password(self):
        self.write("alice/mine.txt", b"x")
        control = self.control()
        self.assertEqual(control.request(login_head("alice", "not it")), b"ERROR login failed\n\n")
        self.assertEqual(control.request(login_head("alice", PASSWORDS["alice"])), b"OK\n\n")
        self.assertEqual(self.transfer(control, "GET\nFILENAME: mine.txt\n\n")[0],
                         b"OK\nFILESIZE: 1\n\n")
        self.assertTrue(control.request("STAT nope\n\n").startswith(b"ERROR"))
        self.assertEqual(control.request("QUIT\n\n"), b"BYE\n\n")
        self.assertTrue(self.server.wait_log(r"\(alice\): ended after"))
        self.assertTrue(self.server.wait_log(r"\(alice\): GET \"mine.txt\" 1 bytes"))
        log = self.server.log()
        session = re.search(r"session (\d+) \(alice\): logged in", log).group(1)
        after_login = False
        for line in log.splitlines():
            if re.search(r"session %s\b" % session, line):
                if "logged in" in line:
                    after_login = True
                if after_login:
                    self.assertIn("session %s (alice):" % session, line)
        self.assertTrue(after_login)
        for password in list(PASSWORDS.values()) + ["not it"]:
            self.assertNotIn(password, log)
        self.assertIn('login failed: wrong password for "alice"', log)


class UserRootTest(LoginTestCase):
    """alice may reach nothing outside root/alice: not bob's files, not the served root's,
    not `outside`; by no path, link, encoding or verb."""

    ESCAPES = [
        "../bob/x", "/bob/x", "/../bob/x", "../../bob/x", "bob/x", "./../bob/x",
        "link/x", "abs/x", "link", "%2e%2e/bob/x", "..%2fbob%2fx", "..\\bob\\x", "\\bob\\x",
        "../top.txt", "/top.txt", "../../outside/secret", "up/secret",
    ]

    def setUp(self):
        super().setUp()
        self.write("bob/x", BOB_SECRET)
        self.write("top.txt", TOP_SECRET)
        with open(os.path.join(self.outside, "secret"), "wb") as f:
            f.write(BOB_SECRET)
        self.write("alice/mine.txt", b"alice's own\n")
        os.symlink("../bob", os.path.join(self.root, "alice", "link"))
        os.symlink("/bob", os.path.join(self.root, "alice", "abs"))
        os.symlink(os.path.join(self.base, "outside"), os.path.join(self.root, "alice", "up"))
        self.escapes = self.ESCAPES + [os.path.join(self.root, "bob", "x"),
                                       os.path.join(self.outside, "secret")]

    def others(self):
        """Everything but alice's folder: the served root's, bob's, carol's, outside."""
        state = {path: value for path, value in snapshot(self.root).items()
                 if path != "alice" and not path.startswith("alice/")}
        state.update({"outside/" + p: v for p, v in snapshot(self.outside).items()})
        return state

    def assertNothingOfOthers(self, data, what):
        self.assertNotIn(BOB_SECRET, data, what)
        self.assertNotIn(TOP_SECRET, data, what)
        self.assertNotIn(b"SIZE: %d\n" % len(BOB_SECRET), data, what)
        self.assertNotIn(b"SIZE: %d\n" % len(TOP_SECRET), data, what)

    def check_and_restore_alice(self, what):
        """What an attempt made inside alice's folder holds nothing of the others' (checked
        without following links), and her folder as setUp made it again."""
        alice = os.path.join(self.root, "alice")
        for dirpath, dirnames, filenames in os.walk(alice):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        self.assertNothingOfOthers(f.read(), what)
        for name in os.listdir(alice):
            if name not in ("mine.txt", "link", "abs", "up"):
                path = os.path.join(alice, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        links = {"link": "../bob", "abs": "/bob", "up": os.path.join(self.base, "outside")}
        for name, target in links.items():
            path = os.path.join(alice, name)
            if not os.path.islink(path) or os.readlink(path) != target:
                if os.path.lexists(path):
                    os.unlink(path)
                os.symlink(target, path)
        mine = os.path.join(alice, "mine.txt")
        if os.path.islink(mine) or not os.path.isfile(mine):
            if os.path.lexists(mine):
                os.unlink(mine)
        self.write("alice/mine.txt", b"alice's own\n")

    def test_every_escape_toward_bob_and_the_root_fails(self):
        before = self.others()
        control = self.login("alice")
        # The session's root is alice's folder.
        head, body = self.transfer(control, "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertEqual(sorted(e[3] for e in ferrytest.parse_listing(body)),
                         [b"abs", b"link", b"mine.txt", b"up"])
        tried = 0
        for path in self.escapes:
            for escaped in (False, True):
                extra = "ESCAPED: yes\n" if escaped else ""
                stat = control.request("STAT %s\n%s\n" % (path, extra))
                self.assertNothingOfOthers(stat, "STAT " + path)
                head, body = self.transfer(control, "GET\nFILENAME: %s\n%s\n" % (path, extra))
                self.assertNothingOfOthers(head + body, "GET " + path)
                self.assertTrue(head.startswith(b"ERROR"), (path, head))
                head, body = self.transfer(control, "LS %s\n%s\n" % (path, extra))
                self.assertNothingOfOthers(body, "LS " + path)
                self.assertNotIn(b" x\n", body, "LS " + path)
                self.assertNotIn(b"top.txt", body, "LS " + path)
                head, _ = self.transfer(control, "PUT\nFILENAME: %s\nFILESIZE: 5\n%s\n"
                                        % (path, extra), b"EVIL\n")
                self.check_and_restore_alice("PUT " + path)
                for request in ("MKDIR %s/new\n%s\n" % (path, extra),
                                "DELETE %s\n%s\n" % (path, extra),
                                "RMDIR %s\n%s\n" % (path, extra),
                                "RENAME\nFROM: %s\nTO: stolen\n%s\n" % (path, extra),
                                "RENAME\nFROM: mine.txt\nTO: %s\nOVERWRITE: yes\n%s\n"
                                % (path, extra)):
                    self.assertNothingOfOthers(control.request(request), request)
                    self.check_and_restore_alice(request)
                tried += 9
                self.assertEqual(self.others(), before, "after the attempts with %r" % path)
        print("[login] %d escape attempts from alice's root: nothing outside it read or written"
              % tried)
        # The link inside alice's folder is still hers to use: it resolves inside her root.
        self.assertTrue(control.request("STAT link\n\n").startswith(b"OK\nTYPE: l\n"))
        self.assertEqual(self.others(), before)

    def test_bob_sees_his_own_files_and_not_alices(self):
        bob = self.login("bob")
        self.assertEqual(self.transfer(bob, "GET\nFILENAME: /x\n\n"),
                         (b"OK\nFILESIZE: %d\n\n" % len(BOB_SECRET), BOB_SECRET))
        self.assertTrue(bob.request("STAT ../alice/mine.txt\n\n").startswith(
            b"ERROR no such file or directory"))
        self.assertEqual(self.transfer(bob, "PUT\nFILENAME: ../new.txt\nFILESIZE: 2\n\n",
                                       b"hi")[0], b"OK\nFILESIZE: 2\n\n")
        with open(os.path.join(self.root, "bob", "new.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hi")
        self.assertFalse(os.path.exists(os.path.join(self.root, "new.txt")))


class LoginFloodTest(LoginTestCase):
    def test_fifty_logins_at_once_leave_a_neighbour_served_and_memory_bounded(self):
        """50 LOGINs sent at once (each an Argon2id check of 64 MiB): at most two run at a
        time, so a logged-in neighbour's FEATURES is answered meanwhile, every login ends in
        OK, and ferryd's peak RSS stays near (checks at once + 1) × 64 MiB, not 50 × 64."""
        neighbour = self.login("bob")
        sessions = [self.control() for _ in range(50)]
        started = time.monotonic()
        for control in sessions:
            control.sock.sendall(login_head("alice", PASSWORDS["alice"]).encode())
        time.sleep(0.1)
        asked = time.monotonic()
        self.assertTrue(neighbour.request("FEATURES\n\n").startswith(b"OK\nVERSION: 2\n"))
        answered = time.monotonic() - asked
        answers = [control.answer() for control in sessions]
        last_ok = time.monotonic() - started
        print("[login] 50 logins at once: neighbour's FEATURES in %.1f ms, last OK after %.2f s,"
              " VmHWM %d KiB" % (answered * 1000, last_ok, vm_hwm_kib(self.server.proc.pid)))
        self.assertLess(answered, 2.0)
        self.assertEqual(answers, [b"OK\n\n"] * 50)
        if not os.environ.get("FERRY_SANITIZED"):
            at_once = min(2, os.cpu_count() or 1)
            self.assertLess(vm_hwm_kib(self.server.proc.pid), (at_once + 1) * 65536 + 48 * 1024)


class NoPlainLoginTest(LoginTestCase):
    login_options = ()

    def test_a_plaintext_login_is_refused_without_allow_plain_login(self):
        control = self.control()
        self.assertEqual(control.request(login_head("alice", PASSWORDS["alice"])),
                         b"ERROR login needs TLS (or ferryd --allow-plain-login)\n\n")
        self.assertEqual(control.request("STAT\n\n"), b"ERROR login required\n\n")


class StartTest(unittest.TestCase):
    """What the start says: a bad users file stops it (exit 2, the line named); without
    --users, that anyone who reaches the port can read and write the root."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="ferry-e2e-start-")
        self.addCleanup(shutil.rmtree, self.base, True)
        self.root = os.path.join(self.base, "root")
        os.mkdir(self.root)
        self.users = os.path.join(self.base, "users")

    def start(self, text, *options):
        with open(self.users, "w") as f:
            f.write(text)
        os.chmod(self.users, 0o600)
        return subprocess.run([ferrytest.FERRYD, "--root", self.root, "--bind", "127.0.0.1",
                               "--users", self.users] + list(options) + ["0"],
                              capture_output=True, text=True, timeout=20)

    def test_a_malformed_line_stops_the_start(self):
        good = users_text().splitlines()[0]
        result = self.start("# users\n%s\nbob:plaintext:rw:bob\n" % good)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("ferryd: --users %s: line 3: the password hash is not an Argon2id hash"
                      % self.users, result.stderr)

    def test_a_users_root_must_be_a_directory_inside_the_root(self):
        alice = users_text().splitlines()[0]
        os.symlink("../..", os.path.join(self.root, "up"))
        for root, reason in (("alice", "no such file or directory"),
                             ("up/etc", "no such file or directory")):
            line = re.sub(r":rw:.*$", ":rw:" + root, alice)
            result = self.start("%s\n" % line)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("ferryd: --users %s: line 1: the root of alice, \"%s\", is no directory "
                          "inside %s: %s" % (self.users, root, os.path.realpath(self.root), reason),
                          result.stderr)

    def test_without_users_the_start_says_anyone_may_read_and_write(self):
        for options, says in (((), "can read and write everything in"),
                              (("--read-only",), "can read everything in")):
            server = Ferryd(self.root, options)
            try:
                self.assertTrue(server.wait_log(r"no --users: anyone who can reach this port "
                                                + says))
                lines = server.log().splitlines()
                self.assertTrue(any("no --users" in line for line in lines[1:3]), lines[:4])
            finally:
                self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    ferrytest.main()
