"""The ferry client in its scripted modes (-c, commands on standard input) against ferryd."""

import os
import random
import re
import unittest

import ferrytest
from ferrytest import ServerTestCase, free_port, run_client, temporaries


PART_PREFIX = ".ferry-part-"


def part_files(directory):
    """The client's download temporaries in `directory`."""
    return [name for name in os.listdir(directory) if name.startswith(PART_PREFIX)]


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class ScriptedClientTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.a_data = b"hello from a.txt\n"
        self.write("a.txt", self.a_data)
        self.write("my file.txt", b"a name with a space\n")
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/inner.txt", b"inner\n")

    def ferry(self, *args, input=None, timeout=20.0, network_timeout=5):
        """Runs the client in `local`. `--timeout 5` (its network timeout; loopback answers
        in milliseconds) makes a client that waits for an answer that never comes fail in
        seconds, not at the 20 s kill."""
        extra = ["--timeout", str(network_timeout)] if network_timeout else []
        return run_client(extra + list(args), input=input, timeout=timeout, cwd=self.local)

    def address(self):
        return ["127.0.0.1", str(self.port)]

    def local_file(self, name, data=None):
        path = os.path.join(self.local, name)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        return path

    def local_bytes(self, name):
        with open(self.local_file(name), "rb") as f:
            return f.read()

    def transfers_logged(self):
        return re.findall(r"session \d+: (?:GET|PUT|LS) ", self.server.log())

    def wait_session_end(self, count=1):
        """Waits until `count` sessions have ended in the server log (the client quit)."""
        self.wait_until(lambda: len(re.findall(r"session \d+: ended", self.server.log()))
                        >= count, timeout=5.0)

    def test_ls_and_get(self):
        result = self.ferry("-c", "ls; get a.txt", *self.address(), network_timeout=None)
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)
        for name in ("a.txt", "my file.txt", "sub"):
            # (a directory may be shown with a trailing slash)
            self.assertRegex(result.stdout, r"(?m)^.*\d{2}:\d{2}.* %s/?$" % re.escape(name))
        # One summary line for the GET, saying how many bytes moved.
        self.assertEqual(len(re.findall(r"(?m)^.*\b%d bytes\b.*$" % len(self.a_data),
                                        result.stdout)), 1, result.stdout)
        self.assertNotIn("ftp>", result.stdout + result.stderr)

    def test_get_and_put_with_second_names_and_subdirectories(self):
        data = random.Random(5).randbytes(3 << 20)
        self.local_file("up.bin", data)
        result = self.ferry("-c", "put up.bin sub/remote.bin; get sub/inner.txt here.txt; "
                            "ls sub", *self.address())
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.read("sub/remote.bin"), data)
        self.assertEqual(self.local_bytes("here.txt"), b"inner\n")
        self.assertRegex(result.stdout, r"\b%d bytes\b" % len(data))
        self.assertRegex(result.stdout, r"(?m)\bremote\.bin$")
        self.assertEqual(temporaries(os.path.join(self.root, "sub")), [])
        self.assertEqual(part_files(self.local), [])

    def test_options_after_the_address_and_quiet(self):
        result = self.ferry(*self.address(), "-q", "-c", "get a.txt")
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)
        self.assertNotRegex(result.stdout, r"\bbytes\b")

    def test_a_failing_command_does_not_stop_the_others(self):
        self.local_file("b.txt", b"bbb\n")
        result = self.ferry("-c", "get a.txt; get nope.txt; put b.txt; ls", *self.address())
        self.assertEqual(result.returncode, 1, result)
        self.assertRegex(result.stderr, r"(?m)^error: .*no such file.*nope\.txt")
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)
        self.assertEqual(self.read("b.txt"), b"bbb\n")  # the PUT after the failure ran
        self.assertRegex(result.stdout, r"(?m)\bb\.txt$")  # and the LS after it
        self.assertFalse(os.path.exists(self.local_file("nope.txt")))
        self.assertEqual(part_files(self.local), [])

    def test_unknown_command_fails_and_points_at_help(self):
        result = self.ferry("-c", "frobnicate; get a.txt", *self.address())
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("help", result.stderr)
        self.assertIn("frobnicate", result.stderr)
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)

    def test_help(self):
        result = self.ferry("-c", "help", *self.address())
        self.assertEqual(result.returncode, 0, result)
        for command in ("ls", "get", "put", "help", "quit"):
            self.assertRegex(result.stdout, r"\b%s\b" % command)

    def test_quit_stops_the_command_list(self):
        result = self.ferry("-c", "quit; get a.txt", *self.address())
        self.assertEqual(result.returncode, 0, result)
        self.assertFalse(os.path.exists(self.local_file("a.txt")))

    def test_commands_on_standard_input(self):
        self.local_file("c.txt", b"ccc")
        result = self.ferry(*self.address(), input="ls\n\nget a.txt\nput c.txt\n")
        self.assertEqual(result.returncode, 0, result)
        self.assertNotIn("ftp>", result.stdout + result.stderr)
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)
        self.assertEqual(self.read("c.txt"), b"ccc")
        self.assertRegex(result.stdout, r"(?m)\bmy file\.txt$")

    def test_commands_on_standard_input_with_a_failure(self):
        result = self.ferry(*self.address(), input="get missing\nget a.txt\n")
        self.assertEqual(result.returncode, 1, result)
        self.assertRegex(result.stderr, r"(?m)^error: .*missing")
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)

    def test_quoted_name_with_a_space(self):
        result = self.ferry("-c", 'get "my file.txt"', *self.address())
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.local_bytes("my file.txt"), b"a name with a space\n")
        self.local_file("local name.txt", b"spaces both ways")
        result = self.ferry("-c", "put 'local name.txt' 'sub/remote name.txt'", *self.address())
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.read("sub/remote name.txt"), b"spaces both ways")

    def test_put_of_a_missing_local_file_does_not_contact_the_server(self):
        result = self.ferry("-c", "put missing-local-file", *self.address())
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("missing-local-file", result.stderr)
        self.wait_session_end()
        self.assertEqual(self.transfers_logged(), [], self.server.log())
        self.assertRegex(self.server.log(), r"ended after .*, 0 transfer\(s\)")
        self.assertFalse(os.path.exists(os.path.join(self.root, "missing-local-file")))

    def test_get_of_a_large_file(self):
        data = random.Random(8).randbytes(8 << 20)
        self.write("big.bin", data)
        result = self.ferry("-c", "get big.bin", *self.address())
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(self.local_bytes("big.bin"), data)

    def test_server_refusal_is_reported(self):
        read_only = self.start_server(("--read-only",))
        self.local_file("b.txt", b"b")
        result = self.ferry("-c", "put b.txt; get a.txt", "127.0.0.1", str(read_only.port))
        self.assertEqual(result.returncode, 1, result)
        self.assertRegex(result.stderr, r"(?m)^error: server is read-only")
        self.assertEqual(self.local_bytes("a.txt"), self.a_data)

    def test_unreachable_server(self):
        port = free_port()
        result = self.ferry("-c", "ls", "127.0.0.1", str(port))
        self.assertEqual(result.returncode, 2, result)
        self.assertIn(str(port), result.stderr)
        self.assertRegex(result.stderr, r"(?i)cannot connect|refused|unreachable")
        result = self.ferry("127.0.0.1", str(port), input="ls\n")
        self.assertEqual(result.returncode, 2, result)

    def test_usage_errors(self):
        for args in (["--no-such-option", "127.0.0.1", str(self.port)],
                     ["127.0.0.1"],
                     [],
                     ["127.0.0.1", "70000"],
                     ["127.0.0.1", "notaport"],
                     ["127.0.0.1", str(self.port), "extra"],
                     ["--timeout", "abc", "127.0.0.1", str(self.port)]):
            with self.subTest(args=args):
                result = self.ferry(*args, "-c", "ls", network_timeout=None)
                self.assertEqual(result.returncode, 2, result)
                self.assertNotEqual(result.stderr.strip(), "")
                self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.wait_until(lambda: False, timeout=0.2)
        self.assertEqual(self.transfers_logged(), [])

    def test_help_and_version_options(self):
        result = self.ferry("--help", network_timeout=None)
        self.assertEqual(result.returncode, 0, result)
        self.assertIn("ADDRESS", result.stdout)
        result = self.ferry("--version", network_timeout=None)
        self.assertEqual(result.returncode, 0, result)
        self.assertRegex(result.stdout, r"\d+\.\d+\.\d+")


if __name__ == "__main__":
    ferrytest.main()
