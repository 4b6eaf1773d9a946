"""The start-up sweep and PUT's respect for a target's mode, on the real ferryd.

- A sweep removes only the server's own temporary names (`.ferry-tmp-` + 16 hex digits) that
  were last written before the start, at any depth; a user's look-alikes stay.
- A second ferryd on the same root does not remove the first one's upload in flight.
- PUT over a file of mode 0444 is refused as a write into it would be. Root may write
  anything (CAP_DAC_OVERRIDE), so when the tests run as root that server runs as user and
  group 65534 under util-linux's `setpriv`.
"""

import os
import shutil
import stat
import tempfile
import time

import ferrytest
from ferrytest import Ferryd, ServerTestCase, read_head, read_to_eof, temporaries

UNPRIVILEGED = 65534
HOUR_AGO = time.time() - 3600
SERVER_TEMPORARY = ".ferry-tmp-0123456789abcdef"
OTHER_SERVER_TEMPORARY = ".ferry-tmp-fedcba9876543210"


class UnprivilegedFerryd(Ferryd):
    """Ferryd as user and group 65534: the harness's server with its command behind
    `setpriv`, which execs ferryd in place (so the PID the harness stops is ferryd's)."""

    def __init__(self, root, setpriv, options=(), start_timeout=10.0):
        # A state folder the unprivileged server can make its TLS identity in.
        state = tempfile.mkdtemp(prefix="ferryd-state-")
        os.chown(state, UNPRIVILEGED, UNPRIVILEGED)
        options = list(options) + ["--state-dir", state]
        super().__init__(root, options, start_timeout,
                         prefix=[setpriv, "--reuid=%d" % UNPRIVILEGED,
                                 "--regid=%d" % UNPRIVILEGED, "--clear-groups", "--"])
        self.own_state_dir = state  # removed at stop


def make_old(path):
    os.utime(path, (HOUR_AGO, HOUR_AGO), follow_symlinks=False)


class PutRespectsTheTargetsModeTest(ServerTestCase):
    def start_unprivileged_server(self, root):
        """A server on `root` that has no capability to write what its modes forbid."""
        if os.geteuid() != 0:
            return self.start_server(root=root)
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            self.skipTest("running as root and util-linux's setpriv is missing: a server "
                          "as root may replace a 0444 file (CAP_DAC_OVERRIDE)")
        server = UnprivilegedFerryd(root, setpriv)
        self._servers.append(server)
        return server

    def test_put_over_a_read_only_file_is_refused_and_a_writable_one_replaced(self):
        served = os.path.join(self.base, "served")
        os.mkdir(served)
        read_only = os.path.join(served, "ro.txt")
        writable = os.path.join(served, "rw.txt")
        with open(read_only, "wb") as f:
            f.write(b"read only\n")
        with open(writable, "wb") as f:
            f.write(b"writable\n")
        os.chmod(read_only, 0o444)
        os.chmod(writable, 0o644)
        if os.geteuid() == 0:
            os.chmod(self.base, 0o711)  # 65534 passes through to the root it serves
            for path in (served, read_only, writable):
                os.chown(path, UNPRIVILEGED, UNPRIVILEGED)
        server = self.start_unprivileged_server(served)
        control = self.control(port=server.port)

        head, _ = self.request("PUT\nFILENAME: ro.txt\nFILESIZE: 4\n\n", b"new\n",
                               control=control)
        self.assertEqual(head, b"ERROR permission denied: ro.txt\n\n")
        with open(read_only, "rb") as f:
            self.assertEqual(f.read(), b"read only\n")
        self.assertEqual(stat.S_IMODE(os.stat(read_only).st_mode), 0o444)

        head, _ = self.request("PUT\nFILENAME: rw.txt\nFILESIZE: 4\n\n", b"new\n",
                               control=control)
        self.assertEqual(head, b"OK\nFILESIZE: 4\n\n")
        with open(writable, "rb") as f:
            self.assertEqual(f.read(), b"new\n")
        self.assertEqual(stat.S_IMODE(os.stat(writable).st_mode), 0o644)
        self.assertEqual(temporaries(served), [])


class SweepTest(ServerTestCase):
    def test_only_the_servers_own_stale_names_are_removed_at_any_depth(self):
        lookalikes = [".ferry-tmp-notes.txt", ".ferry-part-abc123", ".ferry-tmp-0123",
                      ".ferry-tmp-0123456789ABCDEF"]
        for name in lookalikes:
            make_old(self.write(name, b"mine\n"))
        outside_target = os.path.join(self.outside, "target")
        os.symlink(outside_target, os.path.join(self.root, OTHER_SERVER_TEMPORARY))
        with open(outside_target, "wb") as f:
            f.write(b"outside\n")
        make_old(outside_target)
        stale = self.write(SERVER_TEMPORARY, b"left by a killed server")
        make_old(stale)
        deep_directory = os.path.join(self.root, *(["d"] * 100))
        os.makedirs(deep_directory)
        deep_stale = os.path.join(deep_directory, SERVER_TEMPORARY)
        with open(deep_stale, "wb") as f:
            f.write(b"deep down")
        make_old(deep_stale)
        with open(os.path.join(deep_directory, "keep.txt"), "wb") as f:
            f.write(b"keep")

        self.start_server()  # its sweep runs now, in the background
        self.assertTrue(self.wait_until(
            lambda: not os.path.lexists(stale) and not os.path.lexists(deep_stale), timeout=10.0),
            "the stale temporaries were not removed")
        for name in lookalikes:
            self.assertEqual(self.read(name), b"mine\n", name)
        self.assertTrue(os.path.islink(os.path.join(self.root, OTHER_SERVER_TEMPORARY)))
        with open(outside_target, "rb") as f:
            self.assertEqual(f.read(), b"outside\n")
        self.assertEqual(os.listdir(deep_directory), ["keep.txt"])

    def test_a_second_server_keeps_the_first_ones_upload_in_flight(self):
        data = os.urandom(256 * 1024)
        half = len(data) // 2
        control = self.control()
        port = control.open("0")
        sock = self.connect(port, timeout=10.0)
        sock.sendall(b"PUT\nFILENAME: whole.bin\nFILESIZE: %d\n\n" % len(data))
        sock.sendall(data[:half])
        self.assertTrue(self.wait_until(lambda: len(temporaries(self.root)) == 1, timeout=5.0),
                        "no temporary file appeared")
        temporary = os.path.join(self.root, temporaries(self.root)[0])
        self.assertTrue(self.wait_until(lambda: os.stat(temporary).st_size == half, timeout=5.0))
        time.sleep(0.1)  # the temporary's last write is now before the second server's start

        second = self.start_server()
        # Its sweep runs in the background right after the start and says what it kept.
        self.assertIsNotNone(second.wait_log(r"kept 1 unfinished upload\(s\) that another "
                                             r"server is writing", timeout=5.0), second.log())
        self.assertTrue(os.path.exists(temporary), "the second server removed the upload")

        sock.sendall(data[half:])
        head, rest = read_head(sock)
        self.assertEqual(head, b"OK\nFILESIZE: %d\n\n" % len(data))
        self.assertEqual(read_to_eof(sock, rest), b"")
        self.assertEqual(self.read("whole.bin"), data)
        self.assertEqual(temporaries(self.root), [])

    def test_a_temporary_file_removed_by_another_process_is_told_as_such(self):
        """Somebody removes the upload's temporary file while the data arrive: the answer
        names that cause (not `no such file or directory`), and the log the bytes received."""
        data = os.urandom(128 * 1024)
        half = len(data) // 2
        control = self.control()
        sock = self.connect(control.open("0"), timeout=10.0)
        sock.sendall(b"PUT\nFILENAME: gone.bin\nFILESIZE: %d\n\n" % len(data) + data[:half])
        self.assertTrue(self.wait_until(lambda: len(temporaries(self.root)) == 1, timeout=5.0))
        os.unlink(os.path.join(self.root, temporaries(self.root)[0]))
        sock.sendall(data[half:])
        head, _ = read_head(sock)
        self.assertEqual(head, b"ERROR the upload's temporary file was removed by another "
                               b"process: gone.bin\n\n")
        self.assertIsNotNone(self.server.wait_log(
            r'PUT "gone\.bin" %d bytes in [\d.]+ s: the upload.s temporary file was removed'
            % len(data)), self.server.log())
        self.assertFalse(os.path.exists(os.path.join(self.root, "gone.bin")))


if __name__ == "__main__":
    ferrytest.main()
