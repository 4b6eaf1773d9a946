"""Transfer tokens (docs/PROTOCOL.md, "Transfer tokens"; issue 9 section 3): a port opened
with `TOKEN: yes` serves only the request that presents its token, so another session from
the same address (behind one NAT, on one host) can neither read nor replace the transfer."""

import os
import re
import socket
import unittest

import ferrytest
from ferrytest import ServerTestCase, closed_by_peer, read_head, read_to_eof, run_client, transfer

TOKEN_RE = re.compile(rb"OPENED (\d+)\nTOKEN: ([0-9a-f]{32})\n\n")


class TransferTokenTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.secret = b"only for the session that opened the port\n"
        self.write("secret.txt", self.secret)

    def open_with_token(self, control):
        head = control.request("OPEN 0\nTOKEN: yes\n\n")
        match = TOKEN_RE.fullmatch(head)
        self.assertTrue(match, "OPEN with TOKEN: yes answered %r" % head)
        return int(match.group(1)), match.group(2).decode()

    def test_features_announce_tokens(self):
        head = self.control().request("FEATURES\n\n")
        self.assertIn(b"\nTOKENS: yes\n", head)

    def test_the_right_token_is_served(self):
        port, token = self.open_with_token(self.control())
        head, body = transfer(port, "GET\nFILENAME: secret.txt\nTOKEN: %s\n\n" % token)
        self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(self.secret))
        self.assertEqual(body, self.secret)

    def test_tokens_differ_from_port_to_port(self):
        control = self.control()
        tokens = {self.open_with_token(control)[1] for _ in range(8)}
        self.assertEqual(len(tokens), 8)

    def test_another_session_from_the_same_address_cannot_take_the_port(self):
        """The attack: the victim opens a port; a second session on the same address races
        to it with a GET (no token, a guessed one, its own session's token). Each is refused,
        nothing is read, and the port is used up rather than handed over."""
        victim = self.control()
        attacker = self.control()
        _, attacker_token = self.open_with_token(attacker)
        for presented in ("", "TOKEN: 00000000000000000000000000000000\n",
                          "TOKEN: %s\n" % attacker_token):
            port, token = self.open_with_token(victim)
            head, body = transfer(port, "GET\nFILENAME: secret.txt\n%s\n" % presented)
            self.assertError(head, rb"wrong transfer token")
            self.assertNotIn(self.secret, body)
            # The port took its one connection: the victim's own is refused, not misrouted.
            with self.assertRaises(OSError):
                transfer(port, "GET\nFILENAME: secret.txt\nTOKEN: %s\n\n" % token, timeout=2)
        self.server.wait_log(r"wrong transfer token")

    def test_a_wrong_token_cannot_replace_a_file(self):
        port, _ = self.open_with_token(self.control())
        head, _ = transfer(port, "PUT\nFILENAME: secret.txt\nFILESIZE: 4\n"
                                 "TOKEN: ffffffffffffffffffffffffffffffff\n\n", b"evil")
        self.assertError(head, rb"wrong transfer token")
        self.assertEqual(self.read("secret.txt"), self.secret)
        self.assertEqual(ferrytest.temporaries(self.root), [])

    def test_a_token_is_good_for_one_connection(self):
        port, token = self.open_with_token(self.control())
        request = "GET\nFILENAME: secret.txt\nTOKEN: %s\n\n" % token
        self.assertEqual(transfer(port, request)[1], self.secret)
        with self.assertRaises(OSError):  # reused: the port is gone
            transfer(port, request, timeout=2)

    def test_a_port_opened_without_a_token_is_as_in_version_1(self):
        control = self.control()
        head = control.request("OPEN 0\n\n")
        self.assertRegex(head, rb"\AOPENED \d+\n\n\Z")
        port = int(re.match(rb"OPENED (\d+)", head).group(1))
        # A TOKEN header on such a port's request is ignored.
        head, body = transfer(port, "GET\nFILENAME: secret.txt\nTOKEN: nonsense\n\n")
        self.assertEqual(body, self.secret)

    def test_a_bad_token_header_on_open_is_refused(self):
        control = self.control()
        head = control.request("OPEN 0\nTOKEN: please\n\n")
        self.assertError(head, rb"bad TOKEN header: please \(expected yes\)")
        self.assertRegex(control.request("OPEN 0\n\n"), rb"\AOPENED \d+\n\n\Z")


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class ClientTokenTest(ServerTestCase):
    def test_the_client_asks_for_tokens_once_it_knows_the_server_gives_them(self):
        self.write("a.txt", b"a\n")
        self.write("b.txt", b"b\n")
        local = os.path.join(self.base, "local")
        os.mkdir(local)
        result = run_client(["-v", "--timeout", "5", "127.0.0.1", str(self.port)],
                            input="get a.txt\nget b.txt\nls\n", cwd=local)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(local, "b.txt"), "rb") as f:
            self.assertEqual(f.read(), b"b\n")
        trace = result.stderr.splitlines()
        # The first OPEN goes out with FEATURES, before its answer (docs/DESIGN.md says why
        # that one may go without); every later one asks, and presents what it got.
        opens = [i for i, line in enumerate(trace) if line == "> OPEN 0"]
        self.assertGreaterEqual(len(opens), 3, trace)
        for i in opens[1:]:
            self.assertEqual(trace[i + 1], "> TOKEN: yes", trace)
        given = [line[2:] for line in trace if re.fullmatch(r"< TOKEN: [0-9a-f]{32}", line)]
        presented = [line[2:] for line in trace if re.fullmatch(r"> TOKEN: [0-9a-f]{32}", line)]
        self.assertGreaterEqual(len(presented), 2, trace)
        self.assertTrue(set(presented) <= set(given), trace)
        self.assertNotIn("wrong transfer token", self.server.log())


if __name__ == "__main__":
    unittest.main()
