"""Shared harness of the end-to-end tests: the real ferryd and ferry on loopback.

- `Ferryd` starts the server on port 0 in a given root with given options, parses the port
  from its first log line, collects its log, and stops it by its PID with SIGTERM.
- `ServerTestCase` gives every test a fresh temporary folder holding `root` (served) and
  `outside` (never to be touched), a server started with the class's `ferryd_options`,
  and at teardown closes the test's sockets, stops the server and asserts exit status 0.
- Raw protocol helpers: connect, send a head, read an answer head, read to EOF; every
  socket has a timeout and every loop a bound.
- `run_client` runs ferry with a timeout; `PtyClient` drives it through a pseudo-terminal.

Standard library only. Everything binds and connects to loopback only.
"""

import fcntl
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
# Absolute: the client runs in the tests' own working folders.
FERRY = os.path.abspath(os.environ.get("FERRY") or os.path.join(BUILD, "ferry"))
FERRYD = os.path.abspath(os.environ.get("FERRYD") or os.path.join(BUILD, "ferryd"))

LOOPBACK = "127.0.0.1"
WAIT = 5.0          # seconds: the default bound of every wait on a socket
MAX_READ = 64 << 20  # bytes: the bound of every read-to-EOF
HEAD_LIMIT = 1 << 20
TEMPORARY_PREFIX = ".ferry-tmp-"
LISTEN_RE = re.compile(r"listening on \S+:(\d+)")
FINGERPRINT_RE = re.compile(r"TLS key fingerprint (SHA256:[A-Za-z0-9+/]+)")

# The clients of this process keep their known_hosts here, never in the user's own folder.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="ferry-e2e-config-")


def known_hosts_path():
    return os.path.join(os.environ["XDG_CONFIG_HOME"], "ferry", "known_hosts")


def trust(port, fingerprint, hosts=("127.0.0.1", "localhost", "::1")):
    """Records `fingerprint` for `hosts` at `port` in the clients' known_hosts, as a user who
    accepted the key at first contact; lines of the same host and port are replaced."""
    path = known_hosts_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    names = set(hosts)
    kept = [line for line in lines
            if not (len(line.split()) == 3 and line.split()[0] in names
                    and line.split()[1] == str(port))]
    kept += ["%s %d %s" % (host, port, fingerprint) for host in hosts]
    with open(path, "w") as f:
        f.write("\n".join(kept) + "\n")


def forget(port, hosts=("127.0.0.1", "localhost", "::1")):
    """Removes the lines of `hosts` at `port` from the clients' known_hosts."""
    path = known_hosts_path()
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = f.read().splitlines()
    kept = [line for line in lines
            if not (len(line.split()) == 3 and line.split()[0] in hosts
                    and line.split()[1] == str(port))]
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in kept))
ENTRY_RE = re.compile(rb"^([dflo]) (\d+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.+)$")


# --------------------------------------------------------------------------- the server

class Ferryd:
    """One ferryd process. Its stderr is collected by a thread into `lines`."""

    def __init__(self, root, options=(), start_timeout=10.0, prefix=(), trusted=True):
        """`prefix`: a command that execs ferryd in place (`prlimit --nofile=N:N`,
        `setpriv --reuid=...`), so that the PID stopped is still ferryd's. `trusted`: its
        TLS key goes into the clients' known_hosts (as if accepted at first contact)."""
        self.root = root
        self.options = list(options)
        # Loopback only, unless the test names the address itself.
        if "--bind" not in self.options:
            self.options = ["--bind", LOOPBACK] + self.options
        # Its own TLS identity, made for this server and removed at its end.
        self.own_state_dir = None
        if "--state-dir" not in self.options and "--tls-cert" not in self.options:
            self.own_state_dir = tempfile.mkdtemp(prefix="ferryd-state-")
            self.options += ["--state-dir", self.own_state_dir]
        self.lines = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.proc = subprocess.Popen(
            list(prefix) + [FERRYD, "--root", root] + self.options + ["0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        match = self.wait_log(LISTEN_RE, start_timeout)
        if match is None:
            self.kill()
            raise RuntimeError("ferryd did not say where it listens:\n" + self.log())
        self.port = int(match.group(1))
        printed = self.wait_log(FINGERPRINT_RE, start_timeout)
        self.fingerprint = printed.group(1) if printed else None
        if trusted and self.fingerprint:
            trust(self.port, self.fingerprint)

    def _read_log(self):
        for raw in self.proc.stderr:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=WAIT):
        """The first match of `pattern` in the log, waiting up to `timeout` s; None if none."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    match = regex.search(line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._changed.wait(min(left, 0.2))

    def stop(self, timeout=10.0):
        """SIGTERM by PID; the exit status, or None when it had to be killed."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            status = None
        self._reader.join(2.0)
        if not self._reader.is_alive():
            self.proc.stderr.close()
        if self.own_state_dir:
            shutil.rmtree(self.own_state_dir, ignore_errors=True)
        return status

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5.0)


# --------------------------------------------------------------------------- raw sockets

def free_port():
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def connect(port, host=LOOPBACK, timeout=WAIT, source=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if source is not None:
            sock.bind((source, 0))
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def read_head(sock, buffer=b""):
    """Reads one message head, ending with the empty line (LF or CRLF).
    Returns (head, rest); raises ConnectionError when the peer closes before its end."""
    data = buffer
    while True:
        match = re.search(rb"(?:^|\n)\r?\n", data)
        if match:
            return data[:match.end()], data[match.end():]
        if len(data) > HEAD_LIMIT:
            raise ConnectionError("no end of head in %d bytes" % len(data))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a complete head: %r" % data[:200])
        data += chunk


def read_to_eof(sock, buffer=b"", limit=MAX_READ):
    """Everything until the peer closes (a reset counts as the close), at most `limit` bytes."""
    chunks = [buffer]
    total = len(buffer)
    while total <= limit:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_exact(sock, count, buffer=b""):
    data = buffer
    while len(data) < count:
        chunk = sock.recv(min(1 << 20, count - len(data)))
        if not chunk:
            raise ConnectionError("closed after %d of %d bytes" % (len(data), count))
        data += chunk
    return data


def closed_by_peer(sock, timeout=WAIT):
    """True when the peer closes (EOF or reset) within `timeout` s with nothing more to read;
    the bytes it sent instead otherwise (b'' never: that is the close)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return True if not data else data


def parse_head(head):
    """(start line, {lower-case header name: value}) of a head in bytes."""
    lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.lstrip(" ")
    return lines[0], headers


def parse_listing(body):
    """The LS body as a list of (type, size, mtime text, name bytes); asserts each line's form."""
    entries = []
    assert body == b"" or body.endswith(b"\n"), body[-100:]
    for line in body.split(b"\n")[:-1] if body else []:
        match = ENTRY_RE.match(line)
        assert match, "not an LS entry line: %r" % line
        entries.append((match.group(1).decode(), int(match.group(2)), match.group(3).decode(),
                        match.group(4)))
    return entries


def utc_text(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temporaries(directory):
    return [name for name in os.listdir(directory) if name.startswith(TEMPORARY_PREFIX)]


def snapshot(directory):
    """{relative path: (kind, size, sha256 or link target)} of a tree, for "unchanged" checks."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, directory)
            st = os.lstat(path)
            if os.path.islink(path):
                state[rel] = ("l", st.st_size, os.readlink(path))
            elif os.path.isdir(path):
                state[rel] = ("d", 0, None)
            else:
                state[rel] = ("f", st.st_size, file_sha256(path), st.st_mtime_ns)
    return state


class Control:
    """A control connection."""

    def __init__(self, port, timeout=WAIT, source=None):
        self.sock = connect(port, timeout=timeout, source=source)
        self.buffer = b""

    def request(self, text):
        """Sends one head (str or bytes, sent as is) and returns the answer head (bytes)."""
        self.sock.sendall(text.encode() if isinstance(text, str) else text)
        return self.answer()

    def answer(self):
        head, self.buffer = read_head(self.sock, self.buffer)
        return head

    def open(self, argument="0"):
        """OPEN; the port of the OPENED answer (asserted)."""
        line = "OPEN\n\n" if argument is None else "OPEN %s\n\n" % argument
        head = self.request(line)
        match = re.fullmatch(rb"OPENED (\d+)\n\n", head)
        assert match, "OPEN %s answered %r" % (argument, head)
        return int(match.group(1))

    def close(self):
        self.sock.close()


def transfer(port, request, data=b"", timeout=WAIT, source=None):
    """One transfer connection: sends `request` (a head, str or bytes) and `data`, reads the
    answer head and everything to EOF. Returns (head, body)."""
    sock = connect(port, timeout=timeout, source=source)
    try:
        payload = request.encode() if isinstance(request, str) else request
        sender = None
        if len(data) > (1 << 16):
            # Large data goes from a thread, so that an early answer is read meanwhile.
            sock.sendall(payload)
            errors = []

            def send_data():
                try:
                    sock.sendall(data)
                except OSError as e:
                    errors.append(e)
            sender = threading.Thread(target=send_data, daemon=True)
            sender.start()
        else:
            sock.sendall(payload + data)
        head, rest = read_head(sock)
        body = read_to_eof(sock, rest)
        if sender is not None:
            sender.join(timeout)
        return head, body
    finally:
        sock.close()


# --------------------------------------------------------------------------- test cases

class ServerTestCase(unittest.TestCase):
    """A fresh folder (`base`) with `root` (served by `self.server`) and `outside`."""

    ferryd_options = ()

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="ferry-e2e-")
        self.root = os.path.join(self.base, "root")
        self.outside = os.path.join(self.base, "outside")
        os.mkdir(self.root)
        os.mkdir(self.outside)
        self._servers = []
        self._sockets = []
        # Runs even when setUp fails half-way (then tearDown does not run).
        self.addCleanup(self._last_resort)
        self.server = self.start_server(self.ferryd_options)
        self.port = self.server.port

    def tearDown(self):
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
        problems = []
        for server in self._servers:
            status = server.stop()
            if status != 0:
                problems.append("ferryd exited with %r; its log:\n%s" % (status, server.log()))
        if problems:
            self.fail("\n".join(problems))

    def _last_resort(self):
        for server in self._servers:
            server.kill()
        shutil.rmtree(self.base, ignore_errors=True)

    def set_environment(self, **variables):
        """Sets environment variables (for the clients this test starts) until the test ends."""
        for name, value in variables.items():
            saved = os.environ.get(name)
            self.addCleanup(lambda n=name, v=saved: os.environ.__setitem__(n, v) if v is not None
                            else os.environ.pop(n, None))
            os.environ[name] = value

    def start_server(self, options=(), root=None):
        server = Ferryd(root or self.root, options)
        self._servers.append(server)
        return server

    def control(self, port=None, **kwargs):
        conn = Control(port or self.port, **kwargs)
        self._sockets.append(conn.sock)
        return conn

    def connect(self, port, **kwargs):
        sock = connect(port, **kwargs)
        self._sockets.append(sock)
        return sock

    def write(self, relative, data):
        path = os.path.join(self.root, relative)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def read(self, relative):
        with open(os.path.join(self.root, relative), "rb") as f:
            return f.read()

    def request(self, text, data=b"", control=None):
        """OPEN 0 on a control connection, then one transfer: (head, body)."""
        own = control is None
        control = control or self.control()
        try:
            port = control.open("0")
            return transfer(port, text, data)
        finally:
            if own:
                control.close()

    def assertError(self, head, pattern=rb".+"):
        """An `ERROR <message>` answer head whose message matches `pattern`."""
        match = re.fullmatch(rb"ERROR (.*)\n\n", head)
        self.assertTrue(match, "expected an ERROR answer, got %r" % head)
        self.assertRegex(match.group(1), pattern)

    def wait_until(self, predicate, timeout=2.0, step=0.05):
        """Polls `predicate` until true or `timeout` s passed; its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(step)


class ThrottlingProxy:
    """A control port on loopback that forwards to ferryd, rewriting each `OPENED <port>` to a
    port of its own whose traffic it forwards at `rate` bytes/s in both directions: a real
    server behind a slow link, so that a test can interrupt a transfer under way.
    Every thread is a daemon bounded by socket timeouts and `stop()`."""

    CHUNK = 16 * 1024

    def __init__(self, target_port, rate=512 * 1024, timeout=30.0):
        self.target_port = target_port
        self.rate = rate
        self.timeout = timeout
        self.stopping = threading.Event()
        self.sockets = []
        self.errors = []
        self._lock = threading.Lock()
        self.listener = self._listen()
        self.port = self.listener.getsockname()[1]
        self._spawn(self._accept_loop, self.listener, self._serve_control, None)

    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))
        listener.listen(4)
        listener.settimeout(0.2)
        self._track(listener)
        return listener

    def _track(self, sock):
        with self._lock:
            self.sockets.append(sock)

    def _spawn(self, target, *args):
        def guarded():
            try:
                target(*args)
            except OSError:
                pass  # a connection ended
            except Exception as e:  # reported through `errors`
                self.errors.append(repr(e))
        threading.Thread(target=guarded, daemon=True).start()

    def _accept_loop(self, listener, serve, argument, once=False):
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(self.timeout)
            self._track(conn)
            self._spawn(serve, conn, argument)
            if once:
                listener.close()
                return

    def _connect_upstream(self, port):
        upstream = connect(port, timeout=self.timeout)
        self._track(upstream)
        return upstream

    def _serve_control(self, client, _):
        upstream = self._connect_upstream(self.target_port)
        self._spawn(self._pump, client, upstream, False)
        buffer = b""
        while not self.stopping.is_set():
            chunk = upstream.recv(65536)
            if not chunk:
                break
            buffer += chunk
            while True:
                match = re.search(rb"\n\r?\n", buffer)
                if not match:
                    break
                head, buffer = buffer[:match.end()], buffer[match.end():]
                # The port is rewritten; headers (a transfer TOKEN) pass as they are.
                opened = re.fullmatch(rb"OPENED (\d+)(\r?\n.*)", head, re.S)
                if opened:
                    listener = self._listen()
                    self._spawn(self._accept_loop, listener, self._serve_transfer,
                                int(opened.group(1)), True)
                    head = b"OPENED %d%s" % (listener.getsockname()[1], opened.group(2))
                client.sendall(head)
        client.close()
        upstream.close()

    def _serve_transfer(self, client, real_port):
        upstream = self._connect_upstream(real_port)
        self._spawn(self._pump, client, upstream, True)
        self._pump(upstream, client, True)

    def _pump(self, source, sink, throttle):
        """Copies until EOF, then passes the half-close on; on an error closes both ends."""
        try:
            while not self.stopping.is_set():
                chunk = source.recv(self.CHUNK)
                if not chunk:
                    break
                sink.sendall(chunk)
                if throttle:
                    time.sleep(len(chunk) / self.rate)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (source, sink):
                self._close(sock)

    @staticmethod
    def _close(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on it
        except OSError:
            pass
        sock.close()

    def stop(self):
        self.stopping.set()
        with self._lock:
            for sock in self.sockets:
                self._close(sock)


# --------------------------------------------------------------------------- the client

def client_available():
    return os.access(FERRY, os.X_OK)


def run_client(args, input=None, timeout=20.0, cwd=None, env=None):
    """Runs ferry to its end (killed after `timeout` s: a test failure). Text output."""
    return subprocess.run([FERRY] + list(args), input=input, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env,
                          stdin=None if input is not None else subprocess.DEVNULL)


ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r")


class PtyClient:
    """ferry with its standard input, output and error on a pseudo-terminal."""

    def __init__(self, args, cwd=None, rows=40, columns=200):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = dict(os.environ, TERM="dumb", INPUTRC="/dev/null", COLUMNS=str(columns),
                   LINES=str(rows))
        # The terminal becomes the client's controlling terminal (so that Ctrl-C typed on it
        # is SIGINT) through util-linux's `setsid --ctty`, which execs the client in place:
        # the child is no process group leader, so setsid does not fork and the PID is the
        # client's. Without setsid, a new session without a controlling terminal.
        setsid = shutil.which("setsid")
        self.has_ctty = setsid is not None
        command = ([setsid, "--ctty"] if setsid else []) + [FERRY] + list(args)
        try:
            self.proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave,
                                         cwd=cwd, env=env, start_new_session=not setsid,
                                         close_fds=True)
        finally:
            os.close(slave)
        self.master = master
        self.raw = b""    # everything the client wrote
        self.consumed = 0  # `expect` searches the text after this offset

    def text(self):
        return ANSI_RE.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the client closed the terminal
            chunk = b""
        if not chunk:
            return None
        self.raw += chunk
        return True

    def expect(self, pattern, timeout=10.0):
        """Waits until `pattern` appears after the previous match; the match (AssertionError
        with the output so far when it does not appear in time)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text(), self.consumed)
            if match:
                self.consumed = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self._read(min(left, 0.2)) is None:
                match = regex.search(self.text(), self.consumed)
                if match:
                    self.consumed = match.end()
                    return match
                break
        raise AssertionError("%r did not appear; the client wrote:\n%s"
                             % (pattern, self.text()[self.consumed:]))

    def send_line(self, line):
        os.write(self.master, line.encode() + b"\r")

    def send(self, data):
        os.write(self.master, data)

    def wait_exit(self, timeout=10.0):
        """The exit status; keeps reading the terminal meanwhile so the client never blocks."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            if self._read(0.1) is None:
                break
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None
        finally:
            while self._read(0.05):
                pass

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5.0)
        try:
            os.close(self.master)
        except OSError:
            pass


def main():
    unittest.main(verbosity=2)
