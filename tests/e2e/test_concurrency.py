"""Many clients at once, and several transfers at once on one control connection."""

import hashlib
import os
import random
import threading
import time

import ferrytest
from ferrytest import ServerTestCase, file_sha256, sha256, transfer

CLIENTS = 20
ROUNDS = 3
MAX_SIZE = 3 << 20


class ConcurrencyTest(ServerTestCase):
    def run_threads(self, count, body, timeout=40.0):
        """Runs body(index) in `count` threads; fails with every exception they raised."""
        errors = []

        def guarded(index):
            try:
                body(index)
            except BaseException as e:  # reported below
                errors.append("thread %d: %r" % (index, e))
        threads = [threading.Thread(target=guarded, args=(i,), daemon=True) for i in range(count)]
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.assertFalse([t for t in threads if t.is_alive()], "threads still running")
        self.assertEqual(errors, [])

    def test_twenty_clients_put_and_get_at_once(self):
        shared = random.Random(99).randbytes(2 << 20)
        self.write("shared.bin", shared)
        shared_digest = sha256(shared)
        uploaded = {}  # name -> sha256, filled by the threads
        lock = threading.Lock()
        start = threading.Barrier(CLIENTS, timeout=10)

        def client(index):
            rng = random.Random(index)
            control = self.control()
            start.wait()
            for round_ in range(ROUNDS):
                name = "client%02d-%d.bin" % (index, round_)
                # Edge sizes once each, else anything up to MAX_SIZE.
                size = {(0, 0): 0, (1, 0): 1, (2, 0): 65536}.get((index, round_),
                                                                 rng.randrange(MAX_SIZE))
                data = rng.randbytes(size)
                head, body = transfer(control.open("0"), "PUT\nFILENAME: %s\nFILESIZE: %d\n\n"
                                      % (name, len(data)), data, timeout=30)
                assert head == b"OK\nFILESIZE: %d\n\n" % len(data), (name, head)
                assert body == b""
                with lock:
                    uploaded[name] = sha256(data)
                head, body = transfer(control.open("0"), "GET\nFILENAME: %s\n\n" % name,
                                      timeout=30)
                assert head == b"OK\nFILESIZE: %d\n\n" % len(data), (name, head)
                assert sha256(body) == sha256(data), name
                head, body = transfer(control.open("0"), "GET\nFILENAME: shared.bin\n\n",
                                      timeout=30)
                assert head == b"OK\nFILESIZE: %d\n\n" % len(shared), head
                assert sha256(body) == shared_digest
            assert control.request("QUIT\n\n") == b"BYE\n\n"
        self.run_threads(CLIENTS, client)

        self.assertEqual(len(uploaded), CLIENTS * ROUNDS)
        for name, digest in uploaded.items():
            self.assertEqual(file_sha256(os.path.join(self.root, name)), digest, name)
        self.assertEqual(ferrytest.temporaries(self.root), [])

    def test_several_transfers_at_once_on_one_control_connection(self):
        files = {"f%d.bin" % i: random.Random(i).randbytes(random.Random(i).randrange(1 << 20))
                 for i in range(6)}
        for name, data in files.items():
            self.write(name, data)
        control = self.control()
        ports = [control.open("0") for _ in range(12)]
        names = sorted(files)

        def one(index):
            name = names[index % len(names)]
            if index < len(names):
                head, body = transfer(ports[index], "GET\nFILENAME: %s\n\n" % name)
                assert (head, sha256(body)) == (b"OK\nFILESIZE: %d\n\n" % len(files[name]),
                                                sha256(files[name])), name
            else:
                data = hashlib.sha512(name.encode()).digest() * 5000
                head, _ = transfer(ports[index], "PUT\nFILENAME: up-%s\nFILESIZE: %d\n\n"
                                   % (name, len(data)), data)
                assert head == b"OK\nFILESIZE: %d\n\n" % len(data), head
        self.run_threads(len(ports), one)
        for name in names:
            self.assertEqual(self.read("up-" + name), hashlib.sha512(name.encode()).digest() * 5000)

    def test_a_slow_client_does_not_block_others(self):
        self.write("a.txt", b"quick")
        slow_control = self.control()
        slow = self.connect(slow_control.open("0"))
        slow.sendall(b"PUT\nFILENAME: slow.bin\nFILESIZE: 1000000\n\nabc")
        idle = self.control()  # a control connection that says nothing
        started = time.monotonic()
        for _ in range(10):
            self.assertEqual(self.request("GET\nFILENAME: a.txt\n\n"),
                             (b"OK\nFILESIZE: 5\n\n", b"quick"))
        self.assertLess(time.monotonic() - started, 5.0)
        slow.close()
        idle.close()


if __name__ == "__main__":
    ferrytest.main()
