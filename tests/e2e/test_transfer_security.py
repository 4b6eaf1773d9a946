"""Confinement to the served root, and uploads that never half-happen."""

import os
import random
import re
import time

import ferrytest
from ferrytest import ServerTestCase, closed_by_peer, parse_listing, snapshot, temporaries


class ConfinementTest(ServerTestCase):
    """`base` holds `root` (served) and `outside`; nothing may read or change `outside`."""

    def setUp(self):
        super().setUp()
        self.secret = b"OUTSIDE-SECRET-%d" % random.Random().getrandbits(64)
        with open(os.path.join(self.outside, "secret.txt"), "wb") as f:
            f.write(self.secret)
        os.mkdir(os.path.join(self.outside, "outside-only-dir"))
        with open(os.path.join(self.base, "x"), "wb") as f:
            f.write(self.secret)
        # Inside the root: ordinary content, and links that lead out.
        self.write("inside.txt", b"inside content")
        os.mkdir(os.path.join(self.root, "sub"))
        self.write("sub/inner.txt", b"inner content")
        os.symlink(os.path.join(self.outside, "secret.txt"), os.path.join(self.root, "abs_file"))
        os.symlink("../outside/secret.txt", os.path.join(self.root, "rel_file"))
        os.symlink(self.outside, os.path.join(self.root, "abs_dir"))
        os.symlink("../outside", os.path.join(self.root, "rel_dir"))
        os.symlink("../../outside", os.path.join(self.root, "sub", "deep_rel_dir"))
        os.symlink("/etc", os.path.join(self.root, "etc_link"))
        os.symlink(os.path.join(self.outside, "new-file"), os.path.join(self.root, "dangling"))
        os.symlink("inside.txt", os.path.join(self.root, "good_link"))
        self.outside_before = snapshot(self.outside)
        self.base_before = sorted(os.listdir(self.base))
        with open("/etc/passwd", "rb") as f:
            self.passwd = f.read()
        self.inside_contents = {b"inside content", b"inner content"}

    def tearDown(self):
        try:
            self.assertEqual(snapshot(self.outside), self.outside_before)
            self.assertEqual(sorted(os.listdir(self.base)), self.base_before)
        finally:
            super().tearDown()

    def assertNoLeak(self, head, body, what):
        self.assertNotIn(self.secret, head + body, what)
        if self.passwd:
            self.assertNotIn(self.passwd[:40], body, what)

    ESCAPES = ["../x", "../outside/secret.txt", "/../outside/secret.txt", "/../../etc/passwd",
               "../../etc/passwd", "../../../../../../../../etc/passwd", "sub/../../x",
               "sub/../../outside/secret.txt", "abs_file", "rel_file", "abs_dir/secret.txt",
               "rel_dir/secret.txt", "sub/deep_rel_dir/secret.txt", "etc_link/passwd",
               "/etc/passwd", "./../x", "sub/./../../x", "abs_dir/../x", "rel_dir/../x"]

    def test_get_never_reads_outside(self):
        for path in self.ESCAPES:
            with self.subTest(path=path):
                head, body = self.request("GET\nFILENAME: %s\n\n" % path)
                self.assertNoLeak(head, body, path)
                if head.startswith(b"OK"):
                    self.assertIn(body, self.inside_contents, path)
                else:
                    self.assertError(head)
                    self.assertEqual(body, b"")

    def test_get_reads_inside_the_root_as_if_it_were_slash(self):
        os.mkdir(os.path.join(self.root, "etc"))
        self.write("etc/passwd", b"inside passwd")
        for path in ("/../../etc/passwd", "../etc/passwd", "/etc/passwd", "sub/../../etc/passwd"):
            with self.subTest(path=path):
                self.assertEqual(self.request("GET\nFILENAME: %s\n\n" % path),
                                 (b"OK\nFILESIZE: 13\n\n", b"inside passwd"))
        # A link inside the root to an inside file is followed.
        self.assertEqual(self.request("GET\nFILENAME: good_link\n\n"),
                         (b"OK\nFILESIZE: 14\n\n", b"inside content"))
        # An absolute link resolves against the root: with `outside/secret.txt` inside it,
        # that is what it reads.
        os.makedirs(os.path.join(self.root, self.outside.lstrip("/")))
        self.write(os.path.join(self.outside.lstrip("/"), "secret.txt"), b"decoy")
        self.assertEqual(self.request("GET\nFILENAME: abs_file\n\n"),
                         (b"OK\nFILESIZE: 5\n\n", b"decoy"))

    def test_ls_never_lists_outside(self):
        for path in ["..", "/..", "../outside", "/../outside", "abs_dir", "rel_dir", "abs_dir/",
                     "rel_dir/", "sub/deep_rel_dir", "sub/../..", "../..", "etc_link",
                     "abs_file", "rel_file", "../x"]:
            with self.subTest(path=path):
                head, body = self.request("LS %s\n\n" % path)
                self.assertNoLeak(head, body, path)
                self.assertNotIn(b"outside-only-dir", body, path)
                self.assertNotIn(b"secret.txt", body, path)
                self.assertNotIn(b"passwd", body, path)
                if head == b"OK\n\n":
                    names = {e[3] for e in parse_listing(body)}
                    inside = {os.fsencode(n) for n in os.listdir(self.root)}
                    # Either the root itself, or the one entry of a link (not followed out).
                    self.assertTrue(names == inside or names <= inside, (path, names))
                else:
                    self.assertError(head)

    def test_put_never_writes_outside(self):
        for index, path in enumerate(["../escape0", "/../escape1", "../../escape2",
                                      "abs_dir/escape3", "rel_dir/escape4",
                                      "sub/deep_rel_dir/escape5", "abs_dir/secret.txt",
                                      "rel_dir/secret.txt", "../outside/secret.txt",
                                      "sub/../../outside/secret.txt", "abs_file", "rel_file",
                                      "dangling", "etc_link/ferry-escape"]):
            with self.subTest(path=path):
                data = b"uploaded %d" % index
                head, body = self.request(
                    "PUT\nFILENAME: %s\nFILESIZE: %d\n\n" % (path, len(data)), data)
                if head.startswith(b"OK"):
                    self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(data))
                else:
                    self.assertError(head)
        # Replacing a link puts a regular file in its place; its old target is untouched.
        for name in ("abs_file", "rel_file", "dangling"):
            path = os.path.join(self.root, name)
            if not os.path.islink(path):
                self.assertTrue(os.path.isfile(path), name)
        self.assertFalse(os.path.exists(os.path.join(self.outside, "new-file")))
        self.assertFalse(os.path.exists("/etc/ferry-escape"))
        self.assertEqual(temporaries(self.root), [])

    def test_nul_and_control_bytes_in_paths(self):
        for request in (b"GET\nFILENAME: inside.txt\x00../x\n\n", b"LS inside\x00\n\n",
                        b"GET\nFILENAME: in\x01side.txt\n\n"):
            with self.subTest(request=request):
                head, body = self.request(request)
                self.assertError(head)
                self.assertEqual(body, b"")


class InterruptedPutTest(ServerTestCase):
    ferryd_options = ("--transfer-timeout", "1")
    SIZE = 1 << 20

    def start_put(self, name, sent=100 * 1024):
        control = self.control()
        port = control.open("0")
        sock = self.connect(port)
        sock.sendall(b"PUT\nFILENAME: %s\nFILESIZE: %d\n\n" % (name.encode(), self.SIZE))
        sock.sendall(random.Random(7).randbytes(sent))
        return sock

    def assertDiscarded(self, directory, name, old):
        self.assertIsNotNone(self.server.wait_log(
            r"PUT \"%s\".*of %d bytes; upload discarded" % (re.escape(name), self.SIZE)),
            self.server.log())
        folder = os.path.join(self.root, directory)
        leftovers = self.wait_until(lambda: not temporaries(folder), timeout=2.0)
        self.assertTrue(leftovers, temporaries(folder))
        target = os.path.join(folder, os.path.basename(name))
        if old is None:
            self.assertFalse(os.path.exists(target))
        else:
            with open(target, "rb") as f:
                self.assertEqual(f.read(), old)

    def test_cut_off_put_leaves_no_file(self):
        self.start_put("new.bin").close()
        self.assertDiscarded("", "new.bin", None)

    def test_cut_off_put_leaves_the_older_file_intact(self):
        os.mkdir(os.path.join(self.root, "sub"))
        old = b"the older version\n" * 100
        self.write("sub/old.bin", old)
        before = os.stat(os.path.join(self.root, "sub/old.bin"))
        sock = self.start_put("sub/old.bin")
        # While it is under way, the temporary file exists and the target is untouched.
        self.assertTrue(self.wait_until(lambda: temporaries(os.path.join(self.root, "sub"))))
        self.assertEqual(self.read("sub/old.bin"), old)
        sock.close()
        self.assertDiscarded("sub", "sub/old.bin", old)
        self.assertEqual(os.stat(os.path.join(self.root, "sub/old.bin")).st_ino, before.st_ino)

    def test_cut_off_put_by_a_reset(self):
        self.write("old.bin", b"old")
        sock = self.start_put("old.bin")
        # The reset must come once the upload is under way (before the accept it is just a
        # connection that never was).
        self.assertTrue(self.wait_until(lambda: temporaries(self.root)))
        sock.setsockopt(ferrytest.socket.SOL_SOCKET, ferrytest.socket.SO_LINGER,
                        ferrytest.struct.pack("ii", 1, 0))
        sock.close()
        self.assertDiscarded("", "old.bin", b"old")

    def test_stalled_put_is_dropped(self):
        self.write("old.bin", b"old")
        sock = self.start_put("old.bin")
        sock2 = self.start_put("new.bin", sent=0)
        started = time.monotonic()
        self.assertIs(closed_by_peer(sock, timeout=5.0), True)
        self.assertIs(closed_by_peer(sock2, timeout=5.0), True)
        self.assertGreater(time.monotonic() - started, 0.5)
        self.assertDiscarded("", "old.bin", b"old")
        self.assertDiscarded("", "new.bin", None)
        self.assertIsNotNone(self.server.wait_log(r"no progress for 1 s"))

    def test_stalled_head_is_dropped(self):
        control = self.control()
        sock = self.connect(control.open("0"))
        sock.sendall(b"PUT\nFILENAME: x\n")
        self.assertIs(closed_by_peer(sock, timeout=5.0), True)
        self.assertFalse(os.path.exists(os.path.join(self.root, "x")))

    def test_server_shutdown_discards_a_running_upload(self):
        self.write("old.bin", b"old")
        self.start_put("old.bin")
        self.assertTrue(self.wait_until(lambda: temporaries(self.root)))
        # SIGTERM: the upload cannot finish within the grace period (it stalls; the
        # transfer timeout drops it first), and nothing is left.
        status = self.server.stop()
        self.assertEqual(status, 0, self.server.log())
        self.assertEqual(temporaries(self.root), [])
        self.assertEqual(self.read("old.bin"), b"old")


if __name__ == "__main__":
    ferrytest.main()
