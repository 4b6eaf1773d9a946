"""The client's login (issue 9, section 2, the client's side): `-u USER` and `USER@` in the
address, the password from --password-file, from .netrc or asked at a terminal without echo,
the trace that masks it, and a server without logins that sees what it saw before.

Most tests run against a fake server that checks every head the client sends (LoginServer
below: FEATURES with `LOGIN: required`, LOGIN answered OK or `ERROR login failed`, every
other request before it `ERROR login required`); the clients there use `--plain`, as that
server speaks no TLS. The last class logs in to the real ferryd (`--users`), over TLS.
"""

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import ferrytest
from ferrytest import FERRY, FERRYD, LOOPBACK, Ferryd, PtyClient, run_client

PASSWORD = "correct horse"
WRONG = "battery staple"
WAIT = 10  # seconds: the bound of every wait of the fake server
LISTING = b"f 5 2026-11-23T19:56:48Z hello.txt\n"


def read_heads(conn, rest=b""):
    """Yields each head the peer sends until it closes; `rest` is what came before."""
    while True:
        while b"\n\n" not in rest:
            chunk = conn.recv(4096)
            if not chunk:
                return
            rest += chunk
        end = rest.index(b"\n\n") + 2
        head, rest = rest[:end], rest[end:]
        yield head


def header(head, name):
    match = re.search(rb"^" + name + rb": ?(.*)$", head, re.M | re.I)
    return match.group(1) if match else None


class LoginServer:
    """A ferry server on loopback with the users `users` (name -> password). `login`: the
    FEATURES answer's LOGIN header (None: a server without users, which announces none);
    `seed`: a version-1 server, which knows no FEATURES; `close_after_open`: each control
    connection is closed after its first OPENED (as by an idle timeout). Records every
    control head in `heads`; serves LS on the ports it opens."""

    def __init__(self, users=None, login="required", seed=False, close_after_open=False):
        self.users = dict(users or {"alice": PASSWORD})
        self.login = None if seed else login
        self.seed = seed
        self.close_after_open = close_after_open
        self.connections = 0
        self.heads = []
        self.errors = []
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self._spawn(self._accept_loop)

    def logins(self):
        return [head for head in self.heads if head.startswith(b"LOGIN")]

    def _spawn(self, target, *args):
        def guarded():
            try:
                target(*args)
            except OSError:
                pass  # the client went away
            except Exception as e:  # reported by the test
                self.errors.append(repr(e))
        threading.Thread(target=guarded, daemon=True).start()

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(WAIT)
            self.connections += 1
            self._spawn(self._control, conn)

    def _answer(self, head, session):
        verb = head.split(b"\n", 1)[0].split(b" ", 1)[0].upper()
        if verb == b"QUIT":
            return b"BYE\n\n"
        if self.seed and verb not in (b"OPEN",):
            return b"ERROR unknown command: %s\n\n" % verb
        if verb == b"FEATURES":
            login = b"LOGIN: %s\n" % self.login.encode() if self.login else b""
            return b"OK\nVERSION: 2\nTOKENS: yes\n" + login + b"\n"
        if verb == b"LOGIN":
            if not self.login:
                return b"ERROR no logins on this server: it serves everyone without one\n\n"
            user = (header(head, b"USER") or b"").decode()
            password = (header(head, b"PASSWORD") or b"").decode()
            if user in self.users and self.users[user] == password:
                session["user"] = user
                return b"OK\n\n"
            return b"ERROR login failed\n\n"
        if self.login == "required" and "user" not in session:
            return b"ERROR login required\n\n"
        if verb == b"OPEN":
            data = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            data.bind((LOOPBACK, 0))
            data.listen(1)
            data.settimeout(WAIT)
            self._spawn(self._serve_ls, data)
            token = b""
            if header(head, b"TOKEN") == b"yes" and not self.seed:
                token = b"TOKEN: %s\n" % secrets.token_hex(16).encode()
            return b"OPENED %d\n%s\n" % (data.getsockname()[1], token)
        if verb == b"STAT":
            return b"OK\nTYPE: d\nSIZE: 0\nMTIME: 2026-11-23T19:56:48Z\nMODE: 755\n\n"
        return b"ERROR unknown command: %s\n\n" % verb

    def _control(self, conn):
        session = {}
        with conn:
            for head in read_heads(conn):
                self.heads.append(head)
                answer = self._answer(head, session)
                conn.sendall(answer)
                if head == b"QUIT\n\n" or (self.close_after_open and answer.startswith(b"OPENED")):
                    return

    def _serve_ls(self, data):
        with data:
            conn, _ = data.accept()
        conn.settimeout(WAIT)
        with conn:
            for head in read_heads(conn):
                conn.sendall(b"OK\n\n" + LISTING if head.startswith(b"LS") else
                             b"ERROR unknown command\n\n")
                return

    def close(self):
        self.stopping.set()
        self.listener.close()


class LoginTestCase(unittest.TestCase):
    """A fresh folder, an empty home (no .netrc but the test's) and no $NETRC."""

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="ferry-login-")
        self.addCleanup(shutil.rmtree, self.base, True)
        self.home = os.path.join(self.base, "home")
        os.mkdir(self.home)
        self.set_environment(HOME=self.home, NETRC=None)

    def set_environment(self, **variables):
        """Environment variables (None: unset) for the clients of this test, until its end."""
        for name, value in variables.items():
            saved = os.environ.get(name)
            self.addCleanup(lambda n=name, v=saved: os.environ.__setitem__(n, v) if v is not None
                            else os.environ.pop(n, None))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def server(self, **kwargs):
        server = LoginServer(**kwargs)
        self.addCleanup(server.close)
        self.addCleanup(lambda: self.assertEqual(server.errors, []))
        return server

    def secret_file(self, name, text, mode=0o600):
        path = os.path.join(self.base, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def pty(self, args):
        client = PtyClient(args, cwd=self.base)
        self.addCleanup(client.close)
        return client

    def client(self, args, input=""):
        """ferry with standard input a pipe (a script); timed, so that a hang is a failure."""
        started = time.monotonic()
        result = run_client(args, input=input, cwd=self.base, timeout=10)
        result.seconds = time.monotonic() - started
        return result


class PasswordSources(LoginTestCase):

    def test_password_file_and_the_user_forms(self):
        server = self.server()
        password_file = self.secret_file("pw", PASSWORD + "\nsecond line ignored\n")
        port = str(server.port)
        for address in (["-u", "alice", LOOPBACK, port], ["alice@%s" % LOOPBACK, port],
                        ["alice@%s:%s" % (LOOPBACK, port)],
                        ["ferry://alice@%s:%s/docs" % (LOOPBACK, port)]):
            server.heads.clear()
            result = self.client(["--plain", "--password-file", password_file, "-c", "ls"]
                                 + address)
            self.assertEqual(result.returncode, 0, (address, result.stderr))
            self.assertIn("hello.txt", result.stdout)
            # FEATURES is awaited, then LOGIN, then the session's requests: every OPEN with
            # a token, since FEATURES' answer is known before the first.
            self.assertEqual(server.heads[0], b"FEATURES\n\n")
            self.assertEqual(server.heads[1],
                             b"LOGIN\nUSER: alice\nPASSWORD: %s\n\n" % PASSWORD.encode())
            self.assertIn(b"OPEN 0\nTOKEN: yes\n\n", server.heads)
            self.assertNotIn(b"ERROR", result.stderr.encode())

    def test_no_password_after_a_fallback_to_plaintext(self):
        """A server that does not speak TLS and asks for a login may be an attacker who made
        the client fall back: without --plain, the password is not sent."""
        server = self.server()
        password_file = self.secret_file("pw", PASSWORD + "\n")
        result = self.client(["--password-file", password_file, "-u", "alice", LOOPBACK,
                              str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("does not speak TLS", result.stderr)
        self.assertIn("not sending the password of alice", result.stderr)
        self.assertEqual(server.logins(), [])

    def test_password_file_readable_by_others_is_refused(self):
        server = self.server()
        for mode in (0o644, 0o640, 0o620, 0o602):
            password_file = self.secret_file("pw", PASSWORD + "\n", mode)
            result = self.client(["--plain", "-u", "alice", "--password-file", password_file,
                                  LOOPBACK, str(server.port), "-c", "ls"])
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("%s may be read or written by others (mode %04o)" % (password_file, mode),
                          result.stderr)
            self.assertIn("chmod 600", result.stderr)
        self.assertEqual(server.logins(), [])  # the password never left

    def test_netrc(self):
        server = self.server(users={"alice": PASSWORD, "bob": "bob's"})
        netrc = self.secret_file(
            "netrc",
            "# hosts\n"
            "macdef init\n"
            "machine %s login mallory password evil\n"  # a macro's body, not an entry
            "\n"
            "machine other.example login alice password nope\n"
            "machine %s login bob password \"bob's\"\n"
            "machine %s\n  login alice  # the account\n  password \"correct horse\"\n"
            % (LOOPBACK, LOOPBACK, LOOPBACK))
        self.set_environment(NETRC=netrc)
        port = str(server.port)
        # A user given: the entry of that user.
        result = self.client(["--plain", "alice@%s" % LOOPBACK, port, "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server.logins(), [b"LOGIN\nUSER: alice\nPASSWORD: correct horse\n\n"])
        # None given, and the server requires one: the first entry for the host says who.
        # (A script's first request goes with FEATURES, is refused, and is sent again.)
        server.heads.clear()
        result = self.client(["--plain", LOOPBACK, port, "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hello.txt", result.stdout)
        self.assertEqual(server.heads[:3], [b"FEATURES\n\n", b"OPEN 0\n\n",
                                            b"LOGIN\nUSER: bob\nPASSWORD: bob's\n\n"])
        self.assertEqual(server.heads[3], b"OPEN 0\nTOKEN: yes\n\n")
        # ~/.netrc when $NETRC is not set.
        shutil.copy(netrc, os.path.join(self.home, ".netrc"))
        os.chmod(os.path.join(self.home, ".netrc"), 0o600)
        self.set_environment(NETRC=None)
        server.heads.clear()
        result = self.client(["--plain", "-u", "alice", LOOPBACK, port, "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server.logins(), [b"LOGIN\nUSER: alice\nPASSWORD: correct horse\n\n"])

    def test_netrc_readable_by_others_is_refused(self):
        server = self.server()
        netrc = os.path.join(self.home, ".netrc")
        with open(netrc, "w") as f:
            f.write("machine %s login alice password \"correct horse\"\n" % LOOPBACK)
        os.chmod(netrc, 0o644)
        result = self.client(["--plain", "-u", "alice", LOOPBACK, str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("ferry: %s may be read or written by others (mode 0644): not using it "
                      "(chmod 600 %s)" % (netrc, netrc), result.stderr)
        self.assertEqual(server.logins(), [])
        # A link to it is the same file: the mode checked is the file's, not the link's.
        os.chmod(netrc, 0o600)
        link = os.path.join(self.base, "link")
        os.symlink(netrc, link)
        self.set_environment(NETRC=link)
        result = self.client(["--plain", "-u", "alice", LOOPBACK, str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_script_without_a_password_fails_at_once(self):
        server = self.server()
        port = str(server.port)
        local = pwd.getpwuid(os.getuid()).pw_name
        for args, user in ((["-u", "alice", LOOPBACK, port, "-c", "ls"], "alice"),
                           ([LOOPBACK, port], local)):  # commands on stdin, no user given
            result = self.client(["--plain"] + args, input="ls\n")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("ferry: no password for %s at %s port %s: standard input is not a "
                          "terminal" % (user, LOOPBACK, port), result.stderr)
            self.assertIn("--password-file", result.stderr)
            self.assertLess(result.seconds, 5)
            self.assertNotIn("hello.txt", result.stdout)
        self.assertEqual(server.logins(), [])

    def test_wrong_password_from_a_file_fails_at_once(self):
        server = self.server()
        password_file = self.secret_file("pw", WRONG + "\n")
        result = self.client(["--plain", "--password-file", password_file, "alice@%s" % LOOPBACK,
                              str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("ferry: cannot log in as alice at %s port %d: login failed (the password "
                      "from --password-file %s)" % (LOOPBACK, server.port, password_file),
                      result.stderr)
        self.assertEqual(len(server.logins()), 1)
        self.assertNotIn(WRONG, result.stderr)

    def test_default_user_is_the_local_one(self):
        server = self.server(users={pwd.getpwuid(os.getuid()).pw_name: PASSWORD})
        password_file = self.secret_file("pw", PASSWORD + "\n")
        result = self.client(["--plain", "--password-file", password_file, LOOPBACK,
                              str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(server.logins(), [b"LOGIN\nUSER: %s\nPASSWORD: %s\n\n" % (
            pwd.getpwuid(os.getuid()).pw_name.encode(), PASSWORD.encode())])

    def test_user_given_twice_or_with_a_password(self):
        for args, message in (
                (["-u", "bob", "alice@%s" % LOOPBACK, "1"],
                 "ferry: the user is given twice: --user bob and alice@"),
                (["ferry://alice:secret@%s:1/" % LOOPBACK],
                 "ferry: a ':' in the user name (a password is never taken from the command line"),
                (["-u", "a:b", LOOPBACK, "1"], "ferry: --user: a ':' in the user name")):
            result = self.client(args)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(message, result.stderr)
            self.assertIn("(try 'ferry --help')", result.stderr)
            self.assertNotIn("secret", result.stderr)

    def test_logs_in_again_on_a_new_connection(self):
        server = self.server(close_after_open=True)
        password_file = self.secret_file("pw", PASSWORD + "\n")
        result = self.client(["--plain", "-u", "alice", "--password-file", password_file,
                              LOOPBACK, str(server.port), "-c", "ls; ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count("hello.txt"), 2)
        self.assertIn("reconnecting", result.stderr)
        self.assertEqual(server.connections, 2)
        # The same credentials, read once: the file could be gone by then.
        self.assertEqual(server.logins(), [b"LOGIN\nUSER: alice\nPASSWORD: %s\n\n"
                                           % PASSWORD.encode()] * 2)

    def test_trace_masks_the_password(self):
        server = self.server()
        password_file = self.secret_file("pw", PASSWORD + "\n")
        result = self.client(["--plain", "-v", "-u", "alice", "--password-file", password_file,
                              LOOPBACK, str(server.port), "-c", "ls"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("> LOGIN\n> USER: alice\n> PASSWORD: ********\n< OK\n", result.stderr)
        self.assertNotIn(PASSWORD, result.stderr + result.stdout)
        self.assertEqual(server.logins(), [b"LOGIN\nUSER: alice\nPASSWORD: %s\n\n"
                                           % PASSWORD.encode()])


class ServerWithoutLogins(LoginTestCase):
    """A server without users, and a seed server: no user given, they see what they saw
    before, whatever password source is at hand; a user given is said to be of no use."""

    def test_exchange_unchanged(self):
        netrc = self.secret_file("netrc", "default login alice password \"%s\"\n" % PASSWORD)
        password_file = self.secret_file("pw", PASSWORD + "\n")
        self.set_environment(NETRC=netrc)
        for server in (self.server(login=None), self.server(seed=True)):
            for extra in ([], ["--password-file", password_file]):
                server.heads.clear()
                result = self.client(["--plain"] + extra + [LOOPBACK, str(server.port), "-c",
                                                            "ls"])
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("hello.txt", result.stdout)
                self.assertEqual(server.heads, [b"FEATURES\n\n", b"OPEN 0\n\n", b"QUIT\n\n"])
                self.assertEqual(result.stderr, "")

    def test_user_given_to_a_server_without_logins(self):
        password_file = self.secret_file("pw", PASSWORD + "\n")
        for server in (self.server(login=None), self.server(seed=True)):
            result = self.client(["--plain", "--password-file", password_file,
                                  "alice@%s" % LOOPBACK, str(server.port), "-c", "ls"])
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("hello.txt", result.stdout)
            self.assertEqual(result.stderr,
                             "ferry: the server does not take logins; continuing without\n")
            self.assertEqual(server.logins(), [])  # the password never left
            self.assertEqual(server.heads[0], b"FEATURES\n\n")


class PasswordPrompt(LoginTestCase):

    def test_prompt_without_echo_asks_again(self):
        server = self.server()
        client = self.pty(["--plain", "-u", "alice", LOOPBACK, str(server.port)])
        client.expect(r"alice@127\.0\.0\.1's password: $")
        client.send_line(WRONG)
        client.expect(r"login failed, please try again\.\nalice@127\.0\.0\.1's password: $")
        client.send_line(PASSWORD)
        client.expect(r"ftp> ")
        client.send_line("ls")
        client.expect(r"hello\.txt")
        client.send_line("quit")
        self.assertEqual(client.wait_exit(), 0)
        self.assertNotIn(PASSWORD, client.text())
        self.assertNotIn(WRONG, client.text())
        self.assertEqual([header(head, b"PASSWORD") for head in server.logins()],
                         [WRONG.encode(), PASSWORD.encode()])

    def test_three_wrong_passwords(self):
        server = self.server()
        # No user given: the server requires one, so the local user is asked for.
        local = pwd.getpwuid(os.getuid()).pw_name
        client = self.pty(["--plain", LOOPBACK, str(server.port)])
        for attempt in range(3):
            client.expect(r"%s@127\.0\.0\.1's password: $" % re.escape(local))
            client.send_line(WRONG)
        client.expect(r"ferry: cannot log in as %s at 127\.0\.0\.1 port %d: login failed "
                      r"\(3 tries\)" % (re.escape(local), server.port))
        self.assertEqual(client.wait_exit(), 2)
        self.assertEqual(client.text().count("please try again"), 2)
        self.assertNotIn("ftp>", client.text())
        self.assertEqual(len(server.logins()), 3)

    def test_ctrl_c_at_the_prompt(self):
        server = self.server()
        client = self.pty(["--plain", "-u", "alice", LOOPBACK, str(server.port)])
        if not client.has_ctty:
            self.skipTest("no setsid --ctty: Ctrl-C on the terminal signals nobody")
        client.expect(r"password: $")
        client.send(b"\x03")
        self.assertEqual(client.wait_exit(), 130)
        self.assertEqual(server.logins(), [])


def ferryd_has_users():
    try:
        text = subprocess.run([FERRYD, "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--users" in text


@unittest.skipUnless(ferryd_has_users(), "this ferryd has no --users yet")
class RealServer(LoginTestCase):
    """The real ferryd with a users file (made with `ferryd adduser`), over TLS."""

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.base, "root")
        os.makedirs(os.path.join(self.root, "alice"))
        os.makedirs(os.path.join(self.root, "bob"))
        with open(os.path.join(self.root, "alice", "mine.txt"), "w") as f:
            f.write("alice's\n")
        with open(os.path.join(self.root, "bob", "bobs.txt"), "w") as f:
            f.write("bob's\n")
        users = os.path.join(self.base, "users")
        subprocess.run([FERRYD, "adduser", users, "alice", "--root", "alice"], check=True,
                       input=PASSWORD + "\n", capture_output=True, text=True, timeout=20)
        self.ferryd = Ferryd(self.root, ["--users", users])
        self.addCleanup(self.ferryd.kill)
        self.port = str(self.ferryd.port)

    def tearDown(self):
        self.assertEqual(self.ferryd.stop(), 0, self.ferryd.log())

    def test_prompt(self):
        client = self.pty(["alice@%s" % LOOPBACK, self.port])
        client.expect(r"alice@127\.0\.0\.1's password: $")
        client.send_line(WRONG)
        client.expect(r"login failed, please try again\.\n.*password: $")
        client.send_line(PASSWORD)
        client.expect(r"ftp> ")
        client.send_line("ls")
        client.expect(r"mine\.txt")
        client.send_line("quit")
        self.assertEqual(client.wait_exit(), 0)
        self.assertNotIn(PASSWORD, client.text())
        self.assertNotIn("bobs.txt", client.text())  # her root only

    def test_netrc_in_a_script_with_the_trace(self):
        netrc = self.secret_file("netrc", "machine %s login alice password \"%s\"\n"
                                 % (LOOPBACK, PASSWORD))
        self.set_environment(NETRC=netrc)
        # No user given: the server requires a login, .netrc's entry names alice.
        result = self.client(["-v", LOOPBACK, self.port], input="ls\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"\Af \d+ \S+ \S+ mine\.txt\n\Z")
        self.assertIn("< LOGIN: required\n", result.stderr)
        self.assertIn("> PASSWORD: ********\n", result.stderr)
        self.assertNotIn(PASSWORD, result.stderr)
        self.assertIsNotNone(self.ferryd.wait_log(r"alice"))

    def test_wrong_password_file(self):
        password_file = self.secret_file("pw", WRONG + "\n")
        result = self.client(["-u", "alice", "--password-file", password_file, LOOPBACK,
                              self.port, "-c", "ls"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("cannot log in as alice at 127.0.0.1 port %s: login failed" % self.port,
                      result.stderr)
        self.assertNotIn("mine.txt", result.stdout)


if __name__ == "__main__":
    ferrytest.main()
