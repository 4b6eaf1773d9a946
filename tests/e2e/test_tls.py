"""TLS on the control and transfer connections (issue 9, section 1): nothing of a file in
clear on the wire, the seed's plaintext clients still served, --require-tls, trust on first
use (unknown, accepted, changed, --fingerprint), a CA-signed certificate, SIGHUP reload during
a transfer, transfer connections bound to a TLS session, the fallback to a seed server."""

import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import ferrytest
from ferrytest import (LOOPBACK, WAIT, Ferryd, PtyClient, ServerTestCase, parse_head, read_head,
                       read_exact, run_client)

ETH_P_ALL = 0x0003


def tls_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


class TlsControl:
    """A control connection over TLS, as a client written with Python's ssl would open it."""

    def __init__(self, port, context=None):
        raw = socket.create_connection((LOOPBACK, port), timeout=WAIT)
        self.context = context or tls_context()
        self.sock = self.context.wrap_socket(raw, server_hostname=LOOPBACK)
        self.buffer = b""

    def request(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)
        head, self.buffer = read_head(self.sock, self.buffer)
        return head

    def open(self):
        head = self.request("OPEN 0\nTOKEN: yes\n\n")
        first, headers = parse_head(head)
        assert first.startswith("OPENED "), head
        return int(first.split()[1]), headers["token"]

    def transfer(self, port):
        raw = socket.create_connection((LOOPBACK, port), timeout=WAIT)
        return self.context.wrap_socket(raw, server_hostname=LOOPBACK, session=self.sock.session)

    def close(self):
        self.sock.close()


class Capture:
    """The TCP payloads on the loopback interface while it runs (root: an AF_PACKET socket),
    of the segments to or from `ports` only: other tests run beside this one."""

    def __init__(self, ports):
        self.ports = set(ports)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.frames = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                self.frames.append(self.sock.recv(262144))
            except socket.timeout:
                continue
            except OSError:
                return

    def payload(self, frame):
        """The TCP payload of an IPv4 frame between `ports`, else b""."""
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            return b""
        ip = frame[14:]
        tcp = ip[(ip[0] & 0x0F) * 4:]
        if len(tcp) < 20:
            return b""
        source, target = struct.unpack("!HH", tcp[:4])
        if source not in self.ports and target not in self.ports:
            return b""
        total = struct.unpack("!H", ip[2:4])[0]
        return tcp[(tcp[12] >> 4) * 4:total - (ip[0] & 0x0F) * 4]

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.sock.close()
        return b"".join(self.payload(frame) for frame in self.frames)


def make_ca_and_certificate(folder, hosts_san):
    """A test CA and a server certificate it signs, with openssl(1)."""
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=folder)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ferry test CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=ferry test server")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=%s\n" % hosts_san)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return (os.path.join(folder, "ca.pem"), os.path.join(folder, "server.pem"),
            os.path.join(folder, "server.key"))


def self_signed(folder, name):
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=" + name], check=True, capture_output=True)
    return cert, key


# Transfer ports below the kernel's ephemeral range (32768-60999), so that the capture can
# tell this test's segments from those of the tests running beside it.
DATA_PORT_BASE = random.randrange(21000, 30000, 100)


class TlsWireTest(ServerTestCase):
    ferryd_options = ("--data-ports", "%d-%d" % (DATA_PORT_BASE, DATA_PORT_BASE + 99))

    def test_nothing_of_a_file_crosses_the_wire_in_clear(self):
        marker = b"FERRY-PLAINTEXT-MARKER-" * 4096  # 94 KiB nobody would find by chance
        self.write("secret.bin", marker)
        local = os.path.join(self.base, "up.bin")
        with open(local, "wb") as f:
            f.write(marker[::-1])
        capture = Capture([self.port] + list(range(DATA_PORT_BASE, DATA_PORT_BASE + 100)))
        try:
            result = run_client([LOOPBACK, str(self.port), "-c",
                                 "get secret.bin got.bin; put %s up.bin; ls" % local],
                                cwd=self.base)
        finally:
            wire = capture.stop()
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(self.base, "got.bin"), "rb") as f:
            self.assertEqual(f.read(), marker)
        self.assertEqual(self.read("up.bin"), marker[::-1])
        self.assertGreater(len(wire), 2 * len(marker), "the capture saw the transfers")
        self.assertNotIn(b"PLAINTEXT-MARKER", wire)
        self.assertNotIn(b"REKRAM-TXETNIALP", wire)
        self.assertNotIn(b"secret.bin", wire, "names cross encrypted too")
        self.assertNotIn(b"OPENED", wire)
        self.assertIn("TLSv1.3", self.server.log())
        # The transfers resumed the control connection's session: no full handshake each.
        self.assertRegex(self.server.log(), r'GET "secret.bin" .* over TLS \(resumed\)')

    def test_seed_plaintext_client_is_still_served(self):
        self.write("a.txt", b"seed bytes")
        head, data = self.request("GET\nFILENAME: a.txt\n\n")
        self.assertTrue(head.startswith(b"OK\n"), head)
        self.assertEqual(data, b"seed bytes")

    def test_tls_session_refuses_a_plaintext_transfer_and_a_missing_token(self):
        self.write("a.txt", b"x" * 100)
        control = TlsControl(self.port)
        self.addCleanup(control.close)
        port, token = control.open()
        # The right token, in clear: refused, and the token dies with it.
        raw = ferrytest.connect(port)
        raw.sendall(("GET\nFILENAME: a.txt\nTOKEN: %s\n\n" % token).encode())
        head, _ = read_head(raw)
        self.assertEqual(head, b"ERROR this transfer connection must use TLS, as its session does\n\n")
        raw.close()
        # An OPEN without a token on a TLS session.
        answer = control.request("OPEN 0\n\n")
        self.assertTrue(answer.startswith(b"ERROR "), answer)
        self.assertIn(b"token", answer)
        # And the right way works, resuming the session.
        port, token = control.open()
        transfer = control.transfer(port)
        transfer.sendall(("GET\nFILENAME: a.txt\nTOKEN: %s\n\n" % token).encode())
        head, rest = read_head(transfer)
        self.assertTrue(head.startswith(b"OK\n"), head)
        self.assertEqual(read_exact(transfer, 100, rest), b"x" * 100)
        self.assertTrue(transfer.session_reused)
        transfer.close()


class RequireTlsTest(ServerTestCase):
    ferryd_options = ("--require-tls",)

    def test_plaintext_is_refused_and_tls_served(self):
        control = self.control()
        self.assertEqual(control.request("FEATURES\n\n"), b"ERROR this server requires TLS\n\n")
        self.assertTrue(ferrytest.closed_by_peer(control.sock))
        self.write("a.txt", b"hello")
        result = run_client([LOOPBACK, str(self.port), "-c", "get a.txt -"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "hello")
        self.assertIn("plaintext refused (--require-tls)", self.server.log())


class RefusalBeforeTheHandshakeTest(ServerTestCase):
    ferryd_options = ("--max-sessions", "1")

    def test_a_refusal_at_accept_is_no_server_without_tls(self):
        """ferryd refuses a session over its limit in plaintext before the client's first
        byte: the client says so, instead of falling back or crying downgrade."""
        held = self.control()
        held.request("FEATURES\n\n")
        result = run_client([LOOPBACK, str(self.port), "-c", "ls"])
        self.assertEqual(result.returncode, 2)
        self.assertIn("refused: too many sessions", result.stderr)
        self.assertNotIn("does not speak TLS", result.stderr)


class TruncationTest(unittest.TestCase):
    """A TLS server (Python's ssl) whose LS answer ends with the TCP close and no
    close_notify, as an attacker on the path could cut it: the listing is no success."""

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="ferry-trunc-")
        self.cert, self.key = self_signed(self.folder, "cut")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, self.key)
        self.listener = socket.socket()
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(4)
        self.data = socket.socket()
        self.data.bind((LOOPBACK, 0))
        self.data.listen(4)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def tearDown(self):
        self.listener.close()
        self.data.close()

    def serve(self):
        try:
            raw, _ = self.listener.accept()
            control = self.context.wrap_socket(raw, server_side=True)
            buffer = b""
            while True:
                head, buffer = read_head(control, buffer)
                if head.startswith(b"FEATURES"):
                    control.sendall(b"OK\nVERSION: 2\nTOKENS: yes\n\n")
                elif head.startswith(b"OPEN"):
                    control.sendall(b"OPENED %d\nTOKEN: %s\n\n" %
                                    (self.data.getsockname()[1], b"0" * 32))
                    raw_data, _ = self.data.accept()
                    transfer = self.context.wrap_socket(raw_data, server_side=True)
                    read_head(transfer)
                    transfer.sendall(b"OK\n\nf 5 2026-12-02T00:00:00Z one.txt\n")
                    transfer.close()  # no close_notify: the TCP close alone
                else:
                    control.sendall(b"BYE\n\n")
                    return
        except (OSError, AssertionError):
            return

    def test_a_listing_cut_without_close_notify_fails(self):
        result = run_client(["--accept-new", LOOPBACK, str(self.port), "-c", "ls"])
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("close_notify", result.stderr)


class TrustOnFirstUseTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        ferrytest.forget(self.port)  # this server's key is not known yet
        self.write("a.txt", b"hello")

    def known_line(self):
        try:
            with open(ferrytest.known_hosts_path()) as f:
                return [l for l in f.read().splitlines() if l.startswith("127.0.0.1 %d " % self.port)]
        except FileNotFoundError:
            return []

    def test_unknown_key_is_refused_in_a_script_with_the_fingerprint(self):
        result = run_client([LOOPBACK, str(self.port), "-c", "get a.txt -"])
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertIn(self.server.fingerprint, result.stderr)
        self.assertIn("--fingerprint", result.stderr)
        self.assertEqual(self.known_line(), [])
        self.assertNotIn("GET", self.server.log())

    def test_accept_new_records_the_key_and_the_next_run_needs_nothing(self):
        first = run_client(["--accept-new", LOOPBACK, str(self.port), "-c", "get a.txt -"])
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("added 127.0.0.1 port %d" % self.port, first.stderr)
        self.assertEqual(self.known_line(), ["127.0.0.1 %d %s" % (self.port, self.server.fingerprint)])
        second = run_client([LOOPBACK, str(self.port), "-c", "get a.txt -"])
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertEqual(second.stdout, "hello")
        self.assertNotIn("added", second.stderr)

    def test_a_changed_key_is_refused_loudly_with_both_fingerprints(self):
        old = "SHA256:" + "A" * 43
        ferrytest.trust(self.port, old)
        result = run_client(["--accept-new", LOOPBACK, str(self.port), "-c", "get a.txt -"])
        self.assertEqual(result.returncode, 2)
        self.assertIn("HAS CHANGED", result.stderr)
        self.assertIn(old, result.stderr)
        self.assertIn(self.server.fingerprint, result.stderr)
        self.assertRegex(result.stderr, r"remove line \d+ of .*known_hosts")
        self.assertNotIn("GET", self.server.log())

    def test_fingerprint_option_accepts_the_right_key_only(self):
        wrong = run_client(["--fingerprint", "SHA256:" + "B" * 43, LOOPBACK, str(self.port),
                            "-c", "get a.txt -"])
        self.assertEqual(wrong.returncode, 2)
        self.assertIn("not the SHA256:BBB", wrong.stderr)
        right = run_client(["--fingerprint", self.server.fingerprint, LOOPBACK, str(self.port),
                            "-c", "get a.txt -"])
        self.assertEqual(right.returncode, 0, right.stderr)
        self.assertEqual(right.stdout, "hello")
        self.assertEqual(len(self.known_line()), 1)

    def test_terminal_asks_and_takes_yes_or_no(self):
        no = PtyClient([LOOPBACK, str(self.port)], cwd=self.base)
        self.addCleanup(no.close)
        no.expect(r"fingerprint is " + re.escape(self.server.fingerprint))
        no.expect(r"\(yes/no\)\? ")
        no.send_line("no")
        self.assertEqual(no.wait_exit(), 2)
        self.assertEqual(self.known_line(), [])
        yes = PtyClient([LOOPBACK, str(self.port)], cwd=self.base)
        self.addCleanup(yes.close)
        yes.expect(r"\(yes/no\)\? ")
        yes.send_line("yes")
        yes.expect(r"ftp> ")
        yes.send_line("ls")
        yes.expect(r"a\.txt")
        yes.send_line("quit")
        self.assertEqual(yes.wait_exit(), 0)
        self.assertEqual(len(self.known_line()), 1)


class CertificateTest(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="ferry-tls-")
        self.root = os.path.join(self.base, "root")
        os.mkdir(self.root)
        with open(os.path.join(self.root, "a.txt"), "wb") as f:
            f.write(b"hello")
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            self.assertEqual(server.stop(), 0, server.log())

    def start(self, options):
        server = Ferryd(self.root, options, trusted=False)
        self.servers.append(server)
        ferrytest.forget(server.port)
        return server

    def test_ca_signed_certificate_is_accepted_without_asking(self):
        ca, cert, key = make_ca_and_certificate(self.base, "IP:127.0.0.1")
        server = self.start(["--tls-cert", cert, "--tls-key", key])
        env = dict(os.environ, SSL_CERT_FILE=ca)
        result = run_client([LOOPBACK, str(server.port), "-c", "get a.txt -"], env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "hello")
        self.assertNotIn("added", result.stderr)  # vouched for by the CA: nothing to accept
        # The same certificate under a name it does not carry is no longer vouched for.
        other = run_client(["localhost", str(server.port), "-c", "get a.txt -"], env=env)
        self.assertEqual(other.returncode, 2)
        self.assertIn("not known yet", other.stderr)
        self.assertIn("hostname mismatch", other.stderr)
        # Without the CA: trust on first use.
        alone = run_client([LOOPBACK, str(server.port), "-c", "get a.txt -"])
        self.assertEqual(alone.returncode, 0, alone.stderr)  # recorded by the first run

    def test_sighup_reloads_the_certificate_during_a_transfer(self):
        cert_a, key_a = self_signed(self.base, "a")
        cert_b, key_b = self_signed(self.base, "b")
        live_cert = os.path.join(self.base, "live.pem")
        live_key = os.path.join(self.base, "live.key")
        os.link(cert_a, live_cert)
        os.link(key_a, live_key)
        size = 8 << 20
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(size))
        server = self.start(["--tls-cert", live_cert, "--tls-key", live_key])
        first_print = server.fingerprint
        control = TlsControl(server.port)
        port, token = control.open()
        transfer = control.transfer(port)
        transfer.sendall(("GET\nFILENAME: big.bin\nTOKEN: %s\n\n" % token).encode())
        head, rest = read_head(transfer)
        self.assertTrue(head.startswith(b"OK\n"), head)
        got = rest + transfer.recv(65536)  # the transfer is under way
        os.replace(cert_b, live_cert)
        os.replace(key_b, live_key)
        os.kill(server.proc.pid, signal.SIGHUP)
        reloaded = server.wait_log(r"SIGHUP: TLS certificate reloaded, key fingerprint (\S+)")
        self.assertIsNotNone(reloaded, server.log())
        self.assertNotEqual(reloaded.group(1), first_print)
        # New connections show the new certificate...
        fresh = TlsControl(server.port)
        with open(live_cert) as f:
            self.assertEqual(fresh.sock.getpeercert(binary_form=True),
                             ssl.PEM_cert_to_DER_cert(f.read()))
        fresh.close()
        # ...and the running transfer and its session went on.
        got = read_exact(transfer, size, got)
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            self.assertEqual(got, f.read())
        self.assertTrue(control.request("FEATURES\n\n").startswith(b"OK"))
        transfer.close()
        # The running session's next transfer still resumes (the ticket keys were kept).
        port, token = control.open()
        again = control.transfer(port)
        again.sendall(("GET\nFILENAME: a.txt\nTOKEN: %s\n\n" % token).encode())
        head, rest = read_head(again)
        self.assertTrue(head.startswith(b"OK\n"), head)
        self.assertTrue(again.session_reused)
        again.close()
        control.close()

    def test_own_identity_is_made_once_and_kept(self):
        state = os.path.join(self.base, "state")
        first = self.start(["--state-dir", state])
        self.assertEqual(os.stat(os.path.join(state, "key.pem")).st_mode & 0o777, 0o600)
        self.assertIn("identity made in", first.log())
        self.assertEqual(first.stop(), 0)
        self.servers.remove(first)
        second = self.start(["--state-dir", state])
        self.assertEqual(second.fingerprint, first.fingerprint)
        self.assertIn("identity from", second.log())


class SeedServerFallbackTest(unittest.TestCase):
    """A server of the seed's protocol only: it reads a head up to its empty line and answers
    ERROR to what it cannot parse, or says nothing (a ClientHello has no empty line)."""

    def setUp(self):
        self.listener = socket.socket()
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.running = True
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def tearDown(self):
        self.running = False
        self.listener.close()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        conn.settimeout(10)
        buffer = b""
        try:
            while True:
                while b"\n\n" not in buffer:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\n\n", 1)
                if head == b"QUIT":
                    conn.sendall(b"BYE\n\n")
                    return
                conn.sendall(b"ERROR unknown command\n\n")
        except OSError:
            pass
        finally:
            conn.close()

    def test_fallback_costs_about_a_second_and_warns(self):
        started = time.monotonic()
        result = run_client([LOOPBACK, str(self.port), "-c", "ls"])
        took = time.monotonic() - started
        self.assertIn("does not speak TLS; continuing in plaintext", result.stderr)
        self.assertIn("unknown command", result.stderr)  # the seed server's answer, in clear
        self.assertLess(took, 3.0)
        self.assertGreaterEqual(self.connections, 2)

    def test_no_fallback_with_tls_flag_or_for_a_known_tls_host(self):
        forced = run_client(["--tls", LOOPBACK, str(self.port), "-c", "ls"])
        self.assertEqual(forced.returncode, 2)
        self.assertIn("does not speak TLS", forced.stderr)
        self.assertNotIn("continuing in plaintext", forced.stderr)
        ferrytest.trust(self.port, "SHA256:" + "C" * 43)
        self.addCleanup(ferrytest.forget, self.port)
        known = run_client([LOOPBACK, str(self.port), "-c", "ls"])
        self.assertEqual(known.returncode, 2)
        self.assertIn("is known as a TLS server", known.stderr)
        plain = run_client(["--plain", LOOPBACK, str(self.port), "-c", "ls"])
        self.assertNotIn("does not speak TLS", plain.stderr)
        self.assertIn("unknown command", plain.stderr)


if __name__ == "__main__":
    ferrytest.main()
