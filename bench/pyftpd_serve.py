#!/usr/bin/python3
"""pyftpdlib for the benchmark: anonymous with write access, 127.0.0.1 only.

Run with Debian's /usr/bin/python3 (python3-pyftpdlib). The same server as
`python3 -m pyftpdlib -i 127.0.0.1 -p PORT -d DIR -w`, but with a fixed passive port
range, logging at WARNING (the CLI logs every command at INFO) and no 512-connection cap
(the idle-memory row holds more sessions than that).

usage: pyftpd_serve.py PORT DIR PASV_MIN PASV_MAX
"""
import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    port, root, pmin, pmax = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(root, perm="elradfmwMT")
    handler = FTPHandler
    handler.authorizer = authorizer
    handler.passive_ports = range(pmin, pmax + 1)
    handler.banner = "pyftpdlib ready."
    server = FTPServer(("127.0.0.1", port), handler)
    server.max_cons = 0
    server.max_cons_per_ip = 0
    print("pyftpdlib listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
