"""Hostile paths end to end, for GET, PUT and LS alike: `..` chains, absolute paths, links
out of the root (to files and directories, absolute and relative), links swapped in while a
request runs, names with NUL, line breaks, 4,096 bytes, bytes that are not UTF-8.

Each case checks that the offender gets an ERROR (or reaches only what lies inside the root,
exactly where the protocol says), that no byte from outside the root is read and nothing
outside is created or changed (hostile.HostileTestCase: a secret marker outside, the outside
tree's names, sizes, mtimes and contents compared at teardown), and that a legitimate client
is served afterwards with nothing lost (`assert_serves`). (Plain escapes are also in
test_transfer_security.py; these add exact resolution targets, the races and the odd names.)
"""

import ctypes
import os
import random
import socket
import threading
import time

import ferrytest
from ferrytest import parse_listing, read_head, sha256, transfer
from hostile import HostileTestCase, temporaries_in_tree, tree_state


class EscapeTest(HostileTestCase):
    """Every path below resolves, as if the root were `/`, to the place in the second column
    (relative to the root). Without anything there the answer is ERROR; with a decoy planted
    there the server reaches exactly that decoy, for GET, PUT and LS."""

    def setUp(self):
        super().setUp()
        # A: where an absolute link to `outside` lands, taken inside the root.
        self.abs_outside = self.outside.lstrip("/")
        self.abs_base = self.base.lstrip("/")
        links = {"abs_file": os.path.join(self.outside, "secret.txt"),
                 "rel_file": "../outside/secret.txt",
                 "abs_dir": self.outside,
                 "rel_dir": "../outside",
                 "sub/deep_rel_dir": "../../outside",
                 "up_link": "..",
                 "sub/up2": "../..",
                 "etc_link": "/etc"}
        for name, target in links.items():
            os.symlink(target, os.path.join(self.root, name))
        A, B = self.abs_outside, self.abs_base
        # (path as sent, where it resolves inside the root)
        self.files = [
            ("../x", "x"), ("../../../../../../../../x", "x"), ("/../x", "x"),
            ("sub/../../x", "x"), ("./../x", "x"), ("up_link/x", "x"), ("sub/up2/x", "x"),
            ("rel_dir/../x", "x"),
            ("../outside/secret.txt", "outside/secret.txt"),
            ("/../../outside/secret.txt", "outside/secret.txt"),
            ("sub/../../outside/dir/secret.txt", "outside/dir/secret.txt"),
            ("rel_file", "outside/secret.txt"),
            ("rel_dir/dir/secret.txt", "outside/dir/secret.txt"),
            ("sub/deep_rel_dir/secret.txt", "outside/secret.txt"),
            ("abs_file", A + "/secret.txt"),
            ("abs_dir/secret.txt", A + "/secret.txt"),
            ("abs_dir/dir/secret.txt", A + "/dir/secret.txt"),
            ("abs_dir/../x", B + "/x"),
            (os.path.join(self.outside, "secret.txt"), A + "/secret.txt"),
            (os.path.join(self.base, "x"), B + "/x"),
            ("etc_link/passwd", "etc/passwd"), ("/etc/passwd", "etc/passwd"),
            ("../../etc/passwd", "etc/passwd"),
        ]
        self.dirs = [
            ("../outside", "outside"), ("/../outside/", "outside"),
            ("sub/../../../outside/dir", "outside/dir"), ("rel_dir", "outside"),
            ("sub/deep_rel_dir", "outside"), ("rel_dir/dir", "outside/dir"),
            ("abs_dir", A), ("abs_dir/", A), ("abs_dir/dir", A + "/dir"), ("abs_dir/..", B),
            (self.outside, A), ("etc_link", "etc"), ("..", "."), ("up_link", "."),
            ("sub/up2/", "."), ("../..", "."),
        ]
        with open("/etc/passwd", "rb") as f:
            self.passwd = f.read()

    def plant_decoys(self):
        """A decoy at every place the paths resolve to; each holds its own relative path."""
        for _, place in self.files:
            os.makedirs(os.path.join(self.root, os.path.dirname(place)), exist_ok=True)
            self.write(place, b"DECOY " + place.encode())
        for _, place in self.dirs:
            os.makedirs(os.path.join(self.root, place), exist_ok=True)

    def check_all(self):
        for path, place in self.files:
            with self.subTest(verb="GET", path=path):
                head, body = self.request("GET\nFILENAME: %s\n\n" % path)
                self.assert_no_secret(head + body, path)
                if self.passwd:
                    self.assertNotIn(self.passwd[:64], body, path)
                if os.path.isfile(os.path.join(self.root, place)):
                    decoy = b"DECOY " + place.encode()
                    self.assertEqual((head, body), (b"OK\nFILESIZE: %d\n\n" % len(decoy), decoy))
                else:
                    self.assertError(head, rb"^no such file or directory: ")
                    self.assertEqual(body, b"")
        for index, (path, place) in enumerate(self.dirs):
            with self.subTest(verb="LS", path=path):
                head, body = self.request("LS %s\n\n" % path)
                self.assert_no_secret(head + body, path)
                directory = os.path.join(self.root, place)
                if os.path.isdir(directory):
                    self.assertEqual(head, b"OK\n\n")
                    self.assertEqual(sorted(e[3] for e in parse_listing(body)),
                                     sorted(os.fsencode(n) for n in os.listdir(directory)))
                else:
                    self.assertError(head, rb"^no such file or directory: ")
            with self.subTest(verb="PUT", path=path):
                data = b"uploaded through %s" % path.encode()
                target = path.rstrip("/") + "/put-%d.bin" % index
                head, body = self.request("PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                          % (target, len(data)), data)
                landed = os.path.join(self.root, place, "put-%d.bin" % index)
                if os.path.isdir(os.path.join(self.root, place)):
                    self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(data))
                    with open(landed, "rb") as f:
                        self.assertEqual(f.read(), data)
                    os.unlink(landed)
                else:
                    self.assertError(head, rb"^no such directory: ")
                    self.assertFalse(os.path.lexists(landed))
        self.assert_outside_untouched()

    def test_escapes_reach_only_the_root_for_get_put_and_ls(self):
        # Nothing at the places the paths resolve to: ERROR for each, nothing read or made.
        self.check_all()
        self.assert_serves()
        # Decoys there: each request reaches exactly its decoy, inside the root.
        self.plant_decoys()
        self.check_all()
        self.assert_serves()


def exchange(a, b):
    """Swaps two names atomically (renameat2 RENAME_EXCHANGE); False when not supported."""
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    if libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) != 0:
        error = ctypes.get_errno()
        if error in (38, 22):  # ENOSYS, EINVAL: not here
            return False
        raise OSError(error, os.strerror(error), a)
    return True


class SwapTest(HostileTestCase):
    """Links swapped in while a request is under way."""

    ferryd_options = ("--transfer-timeout", "5")
    BIG = 8 << 20

    def setUp(self):
        super().setUp()
        # Outside: a file of the same name as the one a GET reads inside, full of the secret.
        with open(os.path.join(self.outside, "big.bin"), "wb") as f:
            f.write(self.secret * (self.BIG // len(self.secret) + 1))
        self.outside_before = tree_state(self.outside)

    def swap_in_link(self, name, target):
        """Moves directory `name` away (to `name-moved`) and puts a link to `target` there."""
        path = os.path.join(self.root, name)
        os.rename(path, path + "-moved")
        os.symlink(target, path)

    def test_put_whose_directory_becomes_a_link_out_between_head_and_data(self):
        for kind, target in (("absolute", self.outside), ("relative", "../outside")):
            with self.subTest(link=kind):
                name = "d-" + kind
                os.mkdir(os.path.join(self.root, name))
                data = random.Random(kind).randbytes(512 * 1024)
                control = self.control()
                sock = self.connect(control.open("0"))
                sock.sendall(b"PUT\nFILENAME: %s/up.bin\nFILESIZE: %d\n\n"
                             % (name.encode(), len(data)) + data[:1000])
                # The server has resolved the directory and started the upload in it.
                self.assertTrue(self.wait_until(
                    lambda: temporaries_in_tree(os.path.join(self.root, name))))
                self.swap_in_link(name, target)
                sock.sendall(data[1000:])
                head, rest = read_head(sock)
                # It lands in the directory the head named, now at `-moved`, inside the root.
                self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(data))
                self.assertEqual(ferrytest.read_to_eof(sock, rest), b"")
                with open(os.path.join(self.root, name + "-moved", "up.bin"), "rb") as f:
                    self.assertEqual(sha256(f.read()), sha256(data))
                self.assertFalse(os.path.lexists(os.path.join(self.outside, "up.bin")))
                self.assert_outside_untouched()
                # A PUT through the link now: resolved inside the root, where nothing is.
                head, _ = self.request("PUT\nFILENAME: %s/up2.bin\nFILESIZE: 3\n\n" % name,
                                       b"abc")
                self.assertError(head, rb"^no such directory: ")
                self.assert_outside_untouched()
        self.assert_serves()

    def test_get_whose_parent_becomes_a_link_out_mid_transfer(self):
        for kind, target in (("absolute", self.outside), ("relative", "../outside")):
            with self.subTest(link=kind):
                name = "g-" + kind
                os.mkdir(os.path.join(self.root, name))
                data = random.Random(kind).randbytes(self.BIG)
                self.write(name + "/big.bin", data)
                control = self.control()
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self._sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
                sock.settimeout(ferrytest.WAIT)
                sock.connect((ferrytest.LOOPBACK, control.open("0")))
                sock.sendall(b"GET\nFILENAME: %s/big.bin\n\n" % name.encode())
                head, rest = read_head(sock)
                self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % self.BIG)
                rest = ferrytest.read_exact(sock, 256 * 1024, rest)
                self.swap_in_link(name, target)
                body = ferrytest.read_to_eof(sock, rest)
                self.assert_no_secret(body, kind)
                self.assertEqual(len(body), self.BIG)
                self.assertEqual(sha256(body), sha256(data))
                # A new GET of the same path: through the link, inside the root: nothing.
                head, body = self.request("GET\nFILENAME: %s/big.bin\n\n" % name)
                self.assertError(head, rb"^no such file or directory: ")
                head, body = self.request("LS %s\n\n" % name)
                self.assertError(head, rb"^no such file or directory: ")
                self.assert_no_secret(body)
        self.assert_serves()

    def test_links_flipped_while_requests_run(self):
        """Two directories flip atomically (RENAME_EXCHANGE), again and again, with links to
        outside (one absolute, one relative) while three clients GET, LS and PUT through
        their names: every answer is inside content or ERROR."""
        inside = b"INSIDE flipping directory\n"
        pairs = []
        for name, target in (("fa", self.outside), ("fr", "../outside")):
            os.mkdir(os.path.join(self.root, name))
            self.write(name + "/secret.txt", inside)
            os.symlink(target, os.path.join(self.root, name + "-link"))
            pairs.append((os.path.join(self.root, name), os.path.join(self.root, name + "-link")))
        if not exchange(*pairs[0]) or not exchange(*pairs[0]):
            self.skipTest("renameat2(RENAME_EXCHANGE) is not supported here")
        stop = threading.Event()
        flips = [0]
        errors = []
        outcomes = {"GET ok": 0, "GET error": 0, "LS ok": 0, "LS error": 0, "PUT ok": 0,
                    "PUT error": 0}
        stored = {}
        lock = threading.Lock()

        def flipper():
            try:
                while not stop.is_set():
                    for a, b in pairs:
                        exchange(a, b)
                    flips[0] += 1
            except Exception as e:  # reported below
                errors.append("flipper: %r" % e)

        def client(index):
            try:
                control = ferrytest.Control(self.port)
                n = 0
                while not stop.is_set():
                    n += 1
                    name = ("fa", "fr")[n % 2]
                    head, body = transfer(control.open("0"),
                                          "GET\nFILENAME: %s/secret.txt\n\n" % name)
                    assert self.secret.strip() not in body, "GET read outside"
                    ok = (head, body) == (b"OK\nFILESIZE: %d\n\n" % len(inside), inside)
                    assert ok or head.startswith(b"ERROR "), (head, body[:100])
                    head, body = transfer(control.open("0"), "LS %s\n\n" % name)
                    listed = head == b"OK\n\n"
                    if listed:
                        names = {e[3] for e in parse_listing(body)}
                        assert b"dir" not in names and b"big.bin" not in names, names
                        assert b"secret.txt" in names, names
                    else:
                        assert head.startswith(b"ERROR "), head
                    data = b"put %d %d" % (index, n)
                    target = "%s/put-%d-%d" % (name, index, n)
                    head, _ = transfer(control.open("0"), "PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                       % (target, len(data)), data)
                    assert head.startswith(b"OK\n") or head.startswith(b"ERROR "), head
                    with lock:
                        outcomes["GET ok" if ok else "GET error"] += 1
                        outcomes["LS ok" if listed else "LS error"] += 1
                        outcomes["PUT ok" if head.startswith(b"OK") else "PUT error"] += 1
                        if head.startswith(b"OK"):
                            stored[(name, "put-%d-%d" % (index, n))] = data
                control.close()
            except Exception as e:  # reported below
                errors.append("client %d: %r" % (index, e))

        threads = [threading.Thread(target=flipper, daemon=True)] + [
            threading.Thread(target=client, args=(i,), daemon=True) for i in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        stop.set()
        for thread in threads:
            thread.join(10.0)
        self.assertFalse([t for t in threads if t.is_alive()], "threads still running")
        self.assertEqual(errors, [])
        self.assertGreater(flips[0], 100)
        # Both sides of the race were hit (typically a few hundred of each in 2 s).
        for outcome, count in outcomes.items():
            self.assertGreater(count, 0, outcomes)
        # Every stored upload is in the real directory (under whichever name it has now).
        for (name, file_name), data in stored.items():
            real = os.path.join(self.root, name)
            if os.path.islink(real):
                real += "-link"
            with open(os.path.join(real, file_name), "rb") as f:
                self.assertEqual(f.read(), data)
        self.assert_outside_untouched()
        self.assert_serves()


class OddNameTest(HostileTestCase):
    """Names with NUL, line breaks, of 4,096 bytes, not UTF-8."""

    def setUp(self):
        super().setUp()
        self.write("a", b"plain a")
        self.write("a\nb", b"name with a line feed")
        self.write("a\rb", b"name with a carriage return")
        with open(os.path.join(os.fsencode(self.root), b"bad\xff"), "wb") as f:
            f.write(b"name not UTF-8")
        self.root_before = sorted(os.listdir(self.root))

    def refused(self, verb, name, pattern, data=b"abc"):
        """GET/PUT/LS of `name` (bytes): an ERROR matching `pattern`, then the close."""
        if verb == b"LS":
            request = b"LS " + name + b"\n\n"
        elif verb == b"GET":
            request = b"GET\nFILENAME: " + name + b"\n\n"
        else:
            request = b"PUT\nFILENAME: " + name + b"\nFILESIZE: %d\n\n" % len(data) + data
        control = self.control()
        sock = self.connect(control.open("0"))
        sock.sendall(request)
        message = self.assertClosedWithError(sock, pattern)
        self.assert_no_secret(message)
        self.assertEqual(sorted(os.listdir(self.root)), self.root_before)
        return message

    def each_verb(self, name, pattern):
        for verb in (b"GET", b"PUT", b"LS"):
            with self.subTest(verb=verb, name=name[:40]):
                self.refused(verb, name, pattern)

    def test_names_with_nul(self):
        for name in (b"keep.bin\x00../../x", b"\x00", b"sub\x00/../../outside",
                     b"new\x00.bin"):
            self.each_verb(name, rb"^malformed message: control character in a line$")
        self.assert_serves()

    def test_names_with_line_breaks(self):
        # `a\nb` cannot be named in one line: the LF ends the FILENAME line and `b` is a
        # header line without a colon; a CR inside a line is a control character.
        self.each_verb(b"a\nb", rb"^malformed message: bad header line$")
        self.each_verb(b"a\rb", rb"^malformed message: control character in a line$")
        self.each_verb(b"a\r\nb", rb"^malformed message: bad header line$")
        self.each_verb(b"a\n\x0bb", rb"^malformed message: ")
        # The escaped spelling is a name of its own (with a backslash): not found, and
        # `a` (the part before the line break) untouched.
        head, body = self.request("GET\nFILENAME: a\\nb\n\n")
        self.assertEqual((head, body), (b"ERROR no such file or directory: a\\\\nb\n\n", b""))
        self.assertEqual(self.read("a"), b"plain a")
        self.assertEqual(self.read("a\nb"), b"name with a line feed")
        # LS shows both names escaped, on one line each.
        head, body = self.request("LS\n\n")
        names = [e[3] for e in parse_listing(body)]
        self.assertIn(b"a\\nb", names)
        self.assertIn(b"a\\rb", names)
        self.assert_serves()

    def test_names_of_4096_bytes(self):
        long_name = b"n" * 4096
        for verb in (b"GET", b"PUT", b"LS"):
            with self.subTest(verb=verb):
                self.refused(verb, long_name, rb"^name too long: n{4096}$")
        # The kernel's own limits, exactly: a component of 255 bytes is fine, 256 is not;
        # a path of 4,095 bytes is fine, 4,096 is not.
        for verb in (b"GET", b"PUT", b"LS"):
            with self.subTest(verb=verb, length=256):
                self.refused(verb, b"m" * 256, rb"^name too long: m{256}$")
        head, _ = self.request("PUT\nFILENAME: %s\nFILESIZE: 3\n\n" % ("m" * 255), b"255")
        self.assertEqual(head, b"OK\nFILESIZE: 3\n\n")
        self.assertEqual(self.read("m" * 255), b"255")
        os.unlink(os.path.join(self.root, "m" * 255))
        fits = "./" * ((4095 - len("keep.bin")) // 2) + "/keep.bin"
        self.assertEqual(len(fits), 4095)
        self.assertEqual(self.request("GET\nFILENAME: %s\n\n" % fits),
                         (b"OK\nFILESIZE: %d\n\n" % len(self.keep["keep.bin"]),
                          self.keep["keep.bin"]))
        self.assertEqual(self.request("LS %s\n\n" % fits)[0], b"OK\n\n")
        too_long = ("/" + fits).encode()
        for verb in (b"GET", b"LS"):
            with self.subTest(verb=verb, length=4096):
                self.refused(verb, too_long, rb"^name too long: ")
        # PUT resolves only the directory part as a path (4,087 bytes here) and creates the
        # last component in it: such a path is stored, at the place it names in the root.
        new = ("/" + fits)[:-len("keep.bin")] + "new.bin"
        self.assertEqual(len(new), 4095)
        head, _ = self.request("PUT\nFILENAME: /%s\nFILESIZE: 3\n\n" % new, b"new")
        self.assertEqual(head, b"OK\nFILESIZE: 3\n\n")
        self.assertEqual(self.read("new.bin"), b"new")
        os.unlink(os.path.join(self.root, "new.bin"))
        self.assert_serves()

    def test_names_not_utf8(self):
        for name in (b"bad\xff", b"\xff\xfe", b"..\xc0\xaf..\xc0\xafx",  # overlong `/`
                     b"\xed\xa0\x80",  # a surrogate
                     b"\xf4\x90\x80\x80",  # beyond U+10FFFF
                     b"trunc\xe2\x82", b"\xc0\x80"):  # a truncated sequence, overlong NUL
            self.each_verb(name, rb"^malformed message: not UTF-8$")
        # The file exists and is listed, escaped; it cannot be named.
        head, body = self.request("LS\n\n")
        self.assertIn(b"bad\\xff", [e[3] for e in parse_listing(body)])
        self.assert_serves()


if __name__ == "__main__":
    ferrytest.main()
