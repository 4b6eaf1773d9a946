"""Names that are not plain text (issue 7): the client's listing shows them in bash's
$'...' quotes, and typing that form back fetches the file, the client sending the path
escaped with `ESCAPED: yes` (PROTOCOL.md, "Paths"). Needs a ferryd that reads ESCAPED."""

import os
import re
import unittest

import ferrytest
from ferrytest import ServerTestCase, run_client

# name in the served root (bytes) -> how the client's listing shows it
HOSTILE = {
    b"bad\xff.txt": r"$'bad\xff.txt'",
    b"a\nb": r"$'a\nb'",
    "evil\u202etxt.exe".encode(): r"$'evil\u202etxt.exe'",
    b"it's\t": r"$'it\'s\t'",
}


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class HostileNamesTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.contents = {}
        for i, name in enumerate(HOSTILE):
            data = b"file number %d\n" % i
            with open(os.path.join(os.fsencode(self.root), name), "wb") as f:
                f.write(data)
            self.contents[name] = data
        self.write("plain.txt", b"plain\n")

    def ferry(self, commands):
        return run_client(["--timeout", "5", "-c", commands, "127.0.0.1", str(self.port)],
                          cwd=self.local)

    def test_ls_shows_names_that_can_be_typed_back(self):
        result = self.ferry("ls")
        self.assertEqual(result.returncode, 0, result)
        names = re.findall(r"(?m)^[dflo] +\d+ \d{4}-\d\d-\d\d \d\d:\d\d (.*)$", result.stdout)
        self.assertEqual(sorted(names), sorted(list(HOSTILE.values()) + ["plain.txt"]))
        # Nothing raw reaches the terminal: no control but the line ends, no bidi override.
        self.assertIsNone(re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", result.stdout))

    def test_get_each_name_by_its_listed_form(self):
        for name, shown in HOSTILE.items():
            with self.subTest(name=name):
                result = self.ferry("get %s" % shown)
                self.assertEqual(result.returncode, 0, result)
                with open(os.path.join(os.fsencode(self.local), name), "rb") as f:
                    self.assertEqual(f.read(), self.contents[name])

    def test_a_plain_name_is_still_sent_literally(self):
        self.write("back\\slash", b"backslash\n")
        result = self.ferry(r"get back\\slash")
        self.assertEqual(result.returncode, 0, result)
        with open(os.path.join(self.local, "back\\slash"), "rb") as f:
            self.assertEqual(f.read(), b"backslash\n")

    def test_ls_of_a_directory_named_with_a_line_break(self):
        os.mkdir(os.path.join(self.root, "d\nir"))
        self.write("d\nir/inner.txt", b"inner\n")
        result = self.ferry(r"ls; ls $'d\nir'")
        self.assertEqual(result.returncode, 0, result)
        self.assertRegex(result.stdout, r"(?m) \$'d\\nir'/$")
        self.assertRegex(result.stdout, r"(?m) inner\.txt$")


if __name__ == "__main__":
    ferrytest.main()
