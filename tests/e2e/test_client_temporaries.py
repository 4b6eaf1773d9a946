"""The client's download temporaries (issue 7): `.ferry-part-XXXXXX`, not the server's
`.ferry-tmp-` prefix, and the removal of the stale ones that dead clients left behind."""

import fcntl
import os
import time
import unittest

import ferrytest
from ferrytest import ServerTestCase, run_client

PART_PREFIX = ".ferry-part-"


@unittest.skipUnless(ferrytest.client_available(), "build/ferry is not built yet")
class ClientTemporariesTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.local = os.path.join(self.base, "local")
        os.mkdir(self.local)
        self.write("a.txt", b"hello\n")

    def local_file(self, name, data=b"left over", age=None):
        path = os.path.join(self.local, name)
        with open(path, "wb") as f:
            f.write(data)
        if age is not None:
            when = time.time() - age
            os.utime(path, (when, when))
        return path

    def get(self, *commands):
        return run_client(["--timeout", "5", "-c", "; ".join(commands), "127.0.0.1",
                           str(self.port)], cwd=self.local)

    def test_stale_part_files_are_removed_and_nothing_else(self):
        self.local_file(".ferry-part-abc123", age=120)      # stale: removed
        held = self.local_file(".ferry-part-Held99", age=120)  # a running client holds it
        self.local_file(".ferry-part-new123", age=5)        # recent: kept
        self.local_file(".ferry-part-notes.txt", age=120)
        self.local_file(".ferry-tmp-0123456789abcdef", age=120)
        os.symlink("a.txt", os.path.join(self.local, ".ferry-part-link12"))
        with open(held, "rb") as holder:
            fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            result = self.get("get a.txt")
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(sorted(os.listdir(self.local)), [
            ".ferry-part-Held99", ".ferry-part-link12", ".ferry-part-new123",
            ".ferry-part-notes.txt", ".ferry-tmp-0123456789abcdef", "a.txt"])

    def test_a_get_into_a_subdirectory_sweeps_that_directory(self):
        sub = os.path.join(self.local, "sub")
        os.mkdir(sub)
        self.local_file(".ferry-part-abc123", age=120)  # not the target's directory: kept
        self.local_file("sub/.ferry-part-abc123", age=120)
        result = self.get("get a.txt sub")
        self.assertEqual(result.returncode, 0, result)
        self.assertEqual(sorted(os.listdir(sub)), ["a.txt"])
        self.assertIn(".ferry-part-abc123", os.listdir(self.local))

    def test_the_download_temporary_is_a_locked_part_file(self):
        """A GET into the served root itself: the client's temporary is not the server's."""
        big = b"x" * (8 << 20)
        self.write("big.bin", big)
        proxy = ferrytest.ThrottlingProxy(self.port, rate=4 << 20)
        self.addCleanup(proxy.stop)
        proc = ferrytest.subprocess.Popen(
            [ferrytest.FERRY, "--plain", "-q", "-c", "get big.bin copy.bin", "127.0.0.1",
             str(proxy.port)],
            cwd=self.root, stdin=ferrytest.subprocess.DEVNULL,
            stdout=ferrytest.subprocess.DEVNULL, stderr=ferrytest.subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        parts = self.wait_until(
            lambda: [n for n in os.listdir(self.root) if n.startswith(PART_PREFIX)],
            timeout=5.0)
        self.assertEqual(len(parts), 1, os.listdir(self.root))
        self.assertRegex(parts[0], r"^\.ferry-part-[A-Za-z0-9]{6}$")
        # The client creates the file, then locks it: once data arrives it holds the lock.
        part = os.path.join(self.root, parts[0])
        self.wait_until(lambda: os.path.exists(part) and os.path.getsize(part) > 0, timeout=5.0)
        with open(os.path.join(self.root, parts[0]), "rb") as f:
            with self.assertRaises(BlockingIOError):
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.assertEqual(proc.wait(timeout=30), 0, proc.stderr.read())
        proc.stderr.close()
        self.assertEqual(self.read("copy.bin"), big)
        self.assertEqual([n for n in os.listdir(self.root) if n.startswith(".ferry-")], [])


if __name__ == "__main__":
    ferrytest.main()
