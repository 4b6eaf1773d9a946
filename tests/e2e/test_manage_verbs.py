"""ferryd's version-2 requests on the control connection over raw sockets (docs/PROTOCOL.md,
section 2, "Version 2"): FEATURES, STAT, MKDIR, RMDIR, DELETE, RENAME; every error the
document lists, --read-only, confinement (nothing outside the root is ever created, removed
or renamed), `.ferry-tmp-` names, the root itself, pipelining, escaped names, and the
version-1 exchange of a seed client unchanged."""

import os
import re
import unittest

import ferrytest
from ferrytest import ServerTestCase, snapshot, transfer, utc_text

RESERVED = b"ERROR name reserved for uploads: %s\n\n"
SERVED = b"ERROR not allowed on the served directory\n\n"


def quoted_path(path):
    return path.encode() if isinstance(path, str) else path


class ManageCase(ServerTestCase):
    def ask(self, text, control=None):
        control = control or self.control_connection()
        return control.request(text.encode() if isinstance(text, str) else text)

    def control_connection(self):
        if not hasattr(self, "_control"):
            self._control = self.control()
        return self._control

    def mtime(self, relative):
        return utc_text(os.lstat(os.path.join(self.root, relative)).st_mtime)

    def mkdirs(self, *relatives):
        for relative in relatives:
            os.makedirs(os.path.join(self.root, relative), exist_ok=True)


class FeaturesAndStatTest(ManageCase):
    def test_features(self):
        self.assertEqual(self.ask("FEATURES\n\n"), b"OK\nVERSION: 2\nTOKENS: yes\n\n")
        self.assertEqual(self.ask("features\r\n\r\n"), b"OK\nVERSION: 2\nTOKENS: yes\n\n")

    def test_stat_of_a_file_a_link_a_directory_and_the_root(self):
        self.mkdirs("docs")
        self.write("docs/a.txt", b"hello\n")
        os.chmod(os.path.join(self.root, "docs/a.txt"), 0o644)
        os.symlink("docs/a.txt", os.path.join(self.root, "link to a"))
        self.assertEqual(self.ask("STAT docs/a.txt\n\n"),
                         b"OK\nTYPE: f\nSIZE: 6\nMTIME: %s\nMODE: 644\n\n"
                         % self.mtime("docs/a.txt").encode())
        self.assertEqual(self.ask("STAT link to a\n\n"),
                         b"OK\nTYPE: l\nSIZE: 10\nMTIME: %s\nMODE: 777\nTARGET: docs/a.txt\n\n"
                         % self.mtime("link to a").encode())
        head = self.ask("STAT docs\n\n")
        self.assertRegex(head, rb"^OK\nTYPE: d\nSIZE: \d+\nMTIME: \S+Z\nMODE: [0-7]+\n\n$")
        mode = b"%o" % (os.stat(self.root).st_mode & 0o7777)
        for request in ("STAT\n\n", "STAT \n\n", "STAT /\n\n", "STAT ..\n\n"):
            with self.subTest(request=request):
                head = self.ask(request)
                self.assertRegex(head, rb"^OK\nTYPE: d\n")
                self.assertIn(b"\nMODE: %s\n" % mode, head)

    def test_stat_errors(self):
        self.assertEqual(self.ask("STAT nope\n\n"), b"ERROR no such file or directory: nope\n\n")
        self.write("f", b"x")
        self.assertEqual(self.ask("STAT f/x\n\n"), b"ERROR not a directory: f/x\n\n")

    def test_stat_of_a_link_target_is_escaped(self):
        os.symlink(b"a\nb\xff", os.path.join(self.root.encode(), b"odd"))
        self.assertRegex(self.ask("STAT odd\n\n"), rb"\nTARGET: a\\nb\\xff\n\n$")


class MkdirRmdirDeleteTest(ManageCase):
    def test_the_documented_exchanges(self):
        self.mkdirs("photos")
        self.write("hello.txt", b"hi")
        self.assertEqual(self.ask("MKDIR photos/2026\n\n"), b"OK\n\n")
        self.assertTrue(os.path.isdir(os.path.join(self.root, "photos/2026")))
        self.assertEqual(self.ask("MKDIR photos/2026\n\n"), b"ERROR exists: photos/2026\n\n")
        self.assertEqual(self.ask("MKDIR a/b/c\n\n"), b"ERROR no such directory: a/b/c\n\n")
        self.assertEqual(self.ask("RMDIR photos\n\n"), b"ERROR not empty: photos\n\n")
        self.assertEqual(self.ask("RMDIR hello.txt\n\n"), b"ERROR not a directory: hello.txt\n\n")
        self.assertEqual(self.ask("DELETE photos\n\n"), b"ERROR is a directory: photos\n\n")
        self.assertEqual(self.ask("DELETE hello.txt\n\n"), b"OK\n\n")
        self.assertFalse(os.path.exists(os.path.join(self.root, "hello.txt")))
        self.assertEqual(self.ask("RMDIR photos/2026/\n\n"), b"OK\n\n")
        self.assertEqual(self.ask("RMDIR photos\n\n"), b"OK\n\n")
        self.assertEqual(os.listdir(self.root), [])

    def test_missing_names(self):
        self.assertEqual(self.ask("RMDIR nope\n\n"), b"ERROR no such file or directory: nope\n\n")
        self.assertEqual(self.ask("DELETE nope\n\n"), b"ERROR no such file or directory: nope\n\n")
        self.assertEqual(self.ask("DELETE x/nope\n\n"),
                         b"ERROR no such file or directory: x/nope\n\n")
        self.write("file", b"x")
        self.assertEqual(self.ask("MKDIR file/x\n\n"), b"ERROR no such directory: file/x\n\n")
        self.assertEqual(self.ask("MKDIR file\n\n"), b"ERROR exists: file\n\n")

    def test_mkdir_mode_is_0777_less_the_umask(self):
        self.assertEqual(self.ask("MKDIR d\n\n"), b"OK\n\n")
        self.assertEqual(os.stat(os.path.join(self.root, "d")).st_mode & 0o777, 0o777 & ~0o022)

    def test_delete_removes_a_link_itself_never_its_target(self):
        self.write("target.txt", b"keep")
        os.symlink("target.txt", os.path.join(self.root, "link"))
        os.symlink(os.path.join(self.outside, "secret"), os.path.join(self.root, "out"))
        with open(os.path.join(self.outside, "secret"), "wb") as f:
            f.write(b"secret")
        os.mkdir(os.path.join(self.root, "dir"))
        os.symlink("dir", os.path.join(self.root, "dirlink"))
        for name in ("link", "out", "dirlink"):
            self.assertEqual(self.ask("DELETE %s\n\n" % name), b"OK\n\n")
        self.assertEqual(sorted(os.listdir(self.root)), ["dir", "target.txt"])
        self.assertEqual(self.read("target.txt"), b"keep")
        self.assertEqual(os.listdir(self.outside), ["secret"])

    def test_rmdir_of_a_link_to_a_directory_is_refused(self):
        os.mkdir(os.path.join(self.root, "dir"))
        os.symlink("dir", os.path.join(self.root, "dirlink"))
        self.assertEqual(self.ask("RMDIR dirlink\n\n"), b"ERROR not a directory: dirlink\n\n")
        self.assertTrue(os.path.isdir(os.path.join(self.root, "dir")))

    def test_each_is_logged_like_a_transfer(self):
        self.assertEqual(self.ask("MKDIR a\n\n"), b"OK\n\n")
        self.assertEqual(self.ask("MKDIR a\n\n"), b"ERROR exists: a\n\n")
        self.assertEqual(self.ask("MKDIR evil\u202etxt\n\n"), b"OK\n\n")
        self.assertIsNotNone(self.server.wait_log(r'session \d+: MKDIR "a": ok'))
        self.assertIsNotNone(self.server.wait_log(r'session \d+: MKDIR "a": exists: a'))
        self.assertIsNotNone(self.server.wait_log(r'session \d+: MKDIR "evil\\u202etxt": ok'))


class RenameTest(ManageCase):
    def test_the_documented_exchanges(self):
        self.mkdirs("docs")
        self.write("a.txt", b"a")
        self.write("c.txt", b"c")
        self.assertEqual(self.ask("RENAME\nFROM: a.txt\nTO: docs/b.txt\n\n"), b"OK\n\n")
        self.assertEqual(self.read("docs/b.txt"), b"a")
        self.assertEqual(self.ask("RENAME\nFROM: c.txt\nTO: docs/b.txt\n\n"),
                         b"ERROR exists: docs/b.txt\n\n")
        self.assertEqual(self.read("docs/b.txt"), b"a")
        self.assertEqual(self.ask("RENAME\nFROM: c.txt\nTO: docs/b.txt\nOVERWRITE: yes\n\n"),
                         b"OK\n\n")
        self.assertEqual(self.read("docs/b.txt"), b"c")
        self.assertEqual(sorted(os.listdir(self.root)), ["docs"])

    def test_errors(self):
        self.mkdirs("a/b", "full/x", "empty")
        self.write("f.txt", b"f")
        cases = [
            ("RENAME\nFROM: a\nTO: a/b/c\n\n", b"ERROR invalid argument: a\n\n"),
            ("RENAME\nFROM: a\nTO: a\n\n", b"ERROR exists: a\n\n"),
            ("RENAME\n\n", b"ERROR RENAME needs FROM and TO headers\n\n"),
            ("RENAME\nFROM: a\n\n", b"ERROR RENAME needs FROM and TO headers\n\n"),
            ("RENAME\nTO: a\n\n", b"ERROR RENAME needs FROM and TO headers\n\n"),
            ("RENAME\nFROM: nope\nTO: x\n\n", b"ERROR no such file or directory: nope\n\n"),
            ("RENAME\nFROM: f.txt\nTO: nope/x\n\n", b"ERROR no such directory: nope/x\n\n"),
            ("RENAME\nFROM: f.txt\nTO: a\nOVERWRITE: yes\n\n", b"ERROR is a directory: a\n\n"),
            ("RENAME\nFROM: empty\nTO: full\nOVERWRITE: yes\n\n", b"ERROR not empty: full\n\n"),
            ("RENAME\nFROM: empty\nTO: f.txt\nOVERWRITE: yes\n\n",
             b"ERROR not a directory: f.txt\n\n"),
            ("RENAME\nFROM: f.txt\nTO: g\nOVERWRITE: always\n\n",
             b"ERROR bad OVERWRITE value: always (expected yes or no)\n\n"),
        ]
        before = snapshot(self.root)
        for request, answer in cases:
            with self.subTest(request=request):
                self.assertEqual(self.ask(request), answer)
        self.assertEqual(snapshot(self.root), before)
        # A directory replaces an empty one when asked to.
        self.assertEqual(self.ask("RENAME\nFROM: full\nTO: empty\nOVERWRITE: yes\n\n"), b"OK\n\n")
        self.assertTrue(os.path.isdir(os.path.join(self.root, "empty/x")))

    def test_a_link_is_renamed_itself(self):
        self.write("t", b"t")
        os.symlink("t", os.path.join(self.root, "l"))
        self.assertEqual(self.ask("RENAME\nFROM: l\nTO: m\n\n"), b"OK\n\n")
        self.assertEqual(os.readlink(os.path.join(self.root, "m")), "t")
        self.assertEqual(self.read("t"), b"t")


class ReadOnlyTest(ManageCase):
    ferryd_options = ("--read-only",)

    def test_changes_are_refused_and_stat_and_features_work(self):
        self.mkdirs("d", "e")
        self.write("f", b"f")
        before = snapshot(self.root)
        for request in ("MKDIR x\n\n", "RMDIR e\n\n", "DELETE f\n\n",
                        "RENAME\nFROM: f\nTO: g\n\n", "MKDIR .ferry-tmp-x\n\n", "RMDIR\n\n"):
            with self.subTest(request=request):
                self.assertEqual(self.ask(request), b"ERROR server is read-only\n\n")
        self.assertEqual(snapshot(self.root), before)
        self.assertEqual(self.ask("FEATURES\n\n"), b"OK\nVERSION: 2\nTOKENS: yes\n\n")
        self.assertRegex(self.ask("STAT f\n\n"), rb"^OK\nTYPE: f\nSIZE: 1\n")
        self.assertRegex(self.ask("OPEN 0\n\n"), rb"^OPENED \d+\n\n$")


class ConfinementTest(ManageCase):
    """Every verb against every escape: the outside folder is the same before and after."""

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.outside, "secret"), "wb") as f:
            f.write(b"top secret")
        os.mkdir(os.path.join(self.outside, "dir"))
        os.mkdir(os.path.join(self.outside, "empty"))
        with open(os.path.join(self.outside, "dir", "secret2"), "wb") as f:
            f.write(b"two")
        self.mkdirs("inside/sub")
        self.write("inside/file", b"inside")
        os.symlink(self.outside, os.path.join(self.root, "out_abs"))
        os.symlink("../../outside", os.path.join(self.root, "inside", "out_rel"))
        os.symlink(os.path.join(self.outside, "secret"), os.path.join(self.root, "secret_link"))
        os.symlink("/", os.path.join(self.root, "slash"))

    def escapes(self):
        out = self.outside
        rel = os.path.relpath(self.outside, self.root)
        return [
            "../outside/%s", "../../outside/%s", "/../outside/%s", rel + "/%s",
            out + "/%s", "out_abs/%s", "inside/out_rel/%s", "slash" + out + "/%s",
            "inside/../../outside/%s", "/proc/self/root" + out + "/%s", "/proc/self/cwd/%s",
        ]

    def test_nothing_outside_is_created_removed_or_renamed(self):
        before_outside = snapshot(self.outside)
        before_base = sorted(os.listdir(self.base))
        for escape in self.escapes():
            requests = [
                "MKDIR " + escape % "new",
                "RMDIR " + escape % "empty",
                "DELETE " + escape % "secret",
                "DELETE " + escape % "dir/secret2",
                "RENAME\nFROM: %s\nTO: stolen" % (escape % "secret"),
                "RENAME\nFROM: %s\nTO: stolen\nOVERWRITE: yes" % (escape % "dir"),
                "RENAME\nFROM: inside/file\nTO: %s" % (escape % "planted"),
                "RENAME\nFROM: inside/sub\nTO: %s\nOVERWRITE: yes" % (escape % "empty"),
                "STAT " + escape % "secret",
            ]
            for request in requests:
                with self.subTest(request=request):
                    head = self.ask(request + "\n\n")
                    if head.startswith(b"OK"):
                        # Only ever inside the root: MKDIR made the root's own path.
                        self.assertTrue(request.startswith("MKDIR"), (request, head))
                    self.assertEqual(snapshot(self.outside), before_outside)
        self.assertEqual(sorted(os.listdir(self.base)), before_base)
        self.assertEqual(self.read("inside/file"), b"inside")
        self.assertFalse(os.path.lexists(os.path.join(self.root, "stolen")))
        # The link itself is the root's to remove; what it points to stays.
        self.assertEqual(self.ask("DELETE secret_link\n\n"), b"OK\n\n")
        self.assertEqual(snapshot(self.outside), before_outside)

    def test_a_parent_swapped_for_a_link_to_the_outside(self):
        before_outside = snapshot(self.outside)
        os.rename(os.path.join(self.root, "inside"), os.path.join(self.root, "was_inside"))
        os.symlink(self.outside, os.path.join(self.root, "inside"))
        for request in ("MKDIR inside/new\n\n", "DELETE inside/secret\n\n",
                        "RMDIR inside/empty\n\n", "RENAME\nFROM: inside/secret\nTO: x\n\n",
                        "RENAME\nFROM: was_inside/file\nTO: inside/planted\n\n"):
            with self.subTest(request=request):
                self.assertRegex(self.ask(request), rb"^ERROR ")
        self.assertEqual(snapshot(self.outside), before_outside)

    def test_the_root_itself(self):
        for path in ("", " ", "/", ".", "..", "./", "//", "inside/..", "../.."):
            for verb in ("RMDIR", "DELETE", "MKDIR"):
                request = "%s%s\n\n" % (verb, "" if path == "" else " " + path.strip())
                with self.subTest(request=request):
                    self.assertEqual(self.ask(request), SERVED)
            with self.subTest(rename_from=path):
                self.assertEqual(self.ask("RENAME\nFROM: %s\nTO: x\n\n" % path.strip()), SERVED)
            with self.subTest(rename_to=path):
                self.assertEqual(
                    self.ask("RENAME\nFROM: inside/file\nTO: %s\nOVERWRITE: yes\n\n"
                             % path.strip()), SERVED)
        self.assertTrue(os.path.isdir(self.root))
        self.assertEqual(self.read("inside/file"), b"inside")

    def test_temporary_names_cannot_be_named(self):
        kept = self.write(".ferry-tmp-0123456789abcdef", b"upload")
        self.write("inside/.ferry-tmp-notes.txt", b"notes")
        for name in (".ferry-tmp-0123456789abcdef", "inside/.ferry-tmp-notes.txt",
                     ".ferry-tmp-x", "/.ferry-tmp-"):
            expected = RESERVED % name.encode()
            for request in ("STAT %s\n\n", "MKDIR %s\n\n", "RMDIR %s\n\n", "DELETE %s\n\n",
                            "RENAME\nFROM: %s\nTO: x\n\n",
                            "RENAME\nFROM: inside/file\nTO: %s\nOVERWRITE: yes\n\n"):
                with self.subTest(request=request % name):
                    self.assertEqual(self.ask(request % name), expected)
        self.assertTrue(os.path.exists(kept))
        self.assertEqual(self.read("inside/.ferry-tmp-notes.txt"), b"notes")
        self.assertEqual(self.read("inside/file"), b"inside")


class PipeliningAndEscapesTest(ManageCase):
    def test_pipelined_requests_are_answered_in_order(self):
        control = self.control()
        control.sock.sendall(b"FEATURES\n\nMKDIR a\n\nMKDIR a\n\nOPEN 0\n\nSTAT a\n\n"
                             b"FOO\n\nRENAME\nFROM: a\nTO: b\n\nRMDIR b\n\nSTAT b\n\nQUIT\n\n")
        self.assertEqual(control.answer(), b"OK\nVERSION: 2\nTOKENS: yes\n\n")
        self.assertEqual(control.answer(), b"OK\n\n")
        self.assertEqual(control.answer(), b"ERROR exists: a\n\n")
        self.assertRegex(control.answer(), rb"^OPENED \d+\n\n$")
        self.assertRegex(control.answer(), rb"^OK\nTYPE: d\n")
        self.assertEqual(control.answer(), b"ERROR unknown command: FOO\n\n")
        self.assertEqual(control.answer(), b"OK\n\n")
        self.assertEqual(control.answer(), b"OK\n\n")
        self.assertEqual(control.answer(), b"ERROR no such file or directory: b\n\n")
        self.assertEqual(control.answer(), b"BYE\n\n")
        self.assertIs(ferrytest.closed_by_peer(control.sock), True)

    def test_many_pipelined_requests(self):
        control = self.control()
        count = 300
        control.sock.sendall(b"".join(b"MKDIR d%d\n\nSTAT d%d\n\n" % (i, i) for i in range(count)))
        for i in range(count):
            self.assertEqual(control.answer(), b"OK\n\n", i)
            self.assertRegex(control.answer(), rb"^OK\nTYPE: d\n", i)
        self.assertEqual(len(os.listdir(self.root)), count)

    def test_other_sessions_are_answered_meanwhile(self):
        first, second = self.control(), self.control()
        first.sock.sendall(b"".join(b"MKDIR x%d\n\n" % i for i in range(200)))
        self.assertEqual(second.request("FEATURES\n\n"), b"OK\nVERSION: 2\nTOKENS: yes\n\n")
        for _ in range(200):
            self.assertEqual(first.answer(), b"OK\n\n")

    def test_escaped_names(self):
        raw = os.path.join(self.root.encode(), b"bad\xffname\nwith break")
        with open(raw, "wb") as f:
            f.write(b"x")
        escaped = "bad\\xffname\\nwith break"
        self.assertRegex(self.ask("STAT %s\nESCAPED: yes\n\n" % escaped), rb"^OK\nTYPE: f\n")
        self.assertEqual(self.ask("RENAME\nFROM: %s\nTO: back\\\\slash\nESCAPED: yes\n\n"
                                  % escaped), b"OK\n\n")
        self.assertEqual(os.listdir(self.root), ["back\\slash"])
        self.assertEqual(self.ask("MKDIR tab\\there\nESCAPED: yes\n\n"), b"OK\n\n")
        self.assertTrue(os.path.isdir(os.path.join(self.root, "tab\there")))
        # Without the header, a backslash is a backslash.
        self.assertEqual(self.ask("DELETE back\\slash\n\n"), b"OK\n\n")
        self.assertEqual(self.ask("RMDIR tab\\there\nESCAPED: yes\n\n"), b"OK\n\n")
        self.assertEqual(os.listdir(self.root), [])

    def test_malformed_escapes_keep_the_connection(self):
        self.assertEqual(self.ask("MKDIR a\\q\nESCAPED: yes\n\n"),
                         b"ERROR malformed escape in path: a\\\\q\n\n")
        self.assertEqual(self.ask("DELETE a\nESCAPED: maybe\n\n"),
                         b"ERROR bad ESCAPED value: maybe (expected yes or no)\n\n")
        self.assertEqual(self.ask("RENAME\nFROM: a\\\nTO: b\nESCAPED: yes\n\n"),
                         b"ERROR malformed escape in path: a\\\\\n\n")
        self.assertEqual(self.ask("MKDIR ok\n\n"), b"OK\n\n")
        self.assertEqual(os.listdir(self.root), ["ok"])

    def test_a_nul_in_an_escaped_name_is_refused(self):
        self.assertRegex(self.ask("MKDIR a\\x00b\nESCAPED: yes\n\n"), rb"^ERROR ")
        self.assertEqual(os.listdir(self.root), [])


class VersionOneTest(ManageCase):
    def test_a_seed_clients_exchange_is_byte_for_byte_the_same(self):
        self.write("somefile.txt", b"hello\n")
        control = self.control()
        port = control.open("0")
        self.assertEqual(transfer(port, "GET\nFILENAME: somefile.txt\n\n"),
                         (b"OK\nFILESIZE: 6\n\n", b"hello\n"))
        port = control.open("0")
        self.assertEqual(transfer(port, "PUT\nFILENAME: clifile.txt\nFILESIZE: 5\n\n", b"12345"),
                         (b"OK\nFILESIZE: 5\n\n", b""))
        port = control.open("0")
        head, body = transfer(port, "LS\n\n")
        self.assertEqual(head, b"OK\n\n")
        self.assertEqual(sorted(line.split(b" ", 3)[3] for line in body.splitlines()),
                         [b"clifile.txt", b"somefile.txt"])
        port = control.open("0")
        self.assertEqual(transfer(port, "GET\nFILENAME: nope.txt\n\n"),
                         (b"ERROR no such file or directory: nope.txt\n\n", b""))
        self.assertEqual(control.request("OPEN 80\n\n"),
                         b"ERROR port 80 refused: ports below 1024 are not allowed\n\n")
        self.assertEqual(control.request("LIST\n\n"), b"ERROR unknown command: LIST\n\n")
        self.assertEqual(control.request("GET\nFILENAME: x\n\n"),
                         b"ERROR unknown command: GET\n\n")
        self.assertEqual(control.request("QUIT\n\n"), b"BYE\n\n")

    def test_the_new_verbs_are_unknown_on_a_transfer_connection(self):
        control = self.control()
        for verb in ("MKDIR x", "FEATURES", "STAT", "RENAME\nFROM: a\nTO: b"):
            port = control.open("0")
            head, _ = transfer(port, verb + "\n\n")
            self.assertEqual(head, b"ERROR unknown command: %s\n\n" % verb.split()[0].encode())
        self.assertEqual(os.listdir(self.root), [])


if __name__ == "__main__":
    unittest.main()
