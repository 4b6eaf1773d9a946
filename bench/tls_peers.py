"""The TLS rows of the ferry benchmark (issue 9, section 4): `bench/run.py --only tls`.

ferry side by side with the encrypted file transfers a Debian 12 machine has at hand, all on
127.0.0.1, files on the tmpfs folder of bench/run.py, every server started here with its own
configuration and stopped by its PID:

- vsftpd 3.0.3 with ssl_enable=YES, anonymous as in the plaintext rows, logins and data forced
  onto TLS (force_anon_logins_ssl, force_anon_data_ssl; the force_local_* twins too), a
  self-signed P-256 certificate made for the run (`openssl req -x509 -newkey ec`), driven over
  explicit FTPS (AUTH TLS, PROT P) by
    - lftp (GnuTLS): `set ftp:ssl-force true; set ftp:ssl-allow-anonymous true;
      set ssl:verify-certificate no`, as it comes (it negotiates TLS 1.3), and again capped at
      TLS 1.2 (`set ssl:priority NORMAL:-VERS-TLS1.3`): lftp sets no TCP_NODELAY, and in TLS
      1.3 each data connection's handshake then waits ~40 ms for a delayed ACK (Nagle holds its
      Finished behind its ChangeCipherSpec), which its TLS 1.2 handshake does not;
    - curl (OpenSSL): `curl --ssl-reqd -k ftp://...`.
  Debian's vsftpd has no ssl_tlsv1_2 / ssl_tlsv1_3 switches: ssl_tlsv1=YES allows every TLS
  version OpenSSL 3 has, so TLS 1.3 is negotiated; its default ssl_ciphers (Debian's
  ECDHE-RSA-AES256-GCM-SHA384) only governs TLS 1.2 and needs an RSA key, so with the EC key
  here ssl_ciphers=HIGH (else no TLS 1.2 client can connect). require_ssl_reuse stays at its
  default YES (each data connection resumes the control connection's session).
- OpenSSH: sshd (Debian's openssh-server) on a free port with a host key and a user key made
  for the run (ed25519), its own sshd_config (publickey only, no PAM, `Subsystem sftp
  internal-sftp`), and `sftp -b BATCH -i KEY -P PORT USER@127.0.0.1`, default ciphers.
- ferry: the same rows with the ferry client against ferryd. Today ferry has no TLS, so its
  rows are `ferry (plaintext)`; ferry over TLS is `ferry (TLS)`, off until TLS lands
  (left out with `bench/run.py --no-ferry-tls`; its server and client arguments are FERRY_TLS_* below).

Rows (each system in every repeat, the order rotated per repeat, like the other groups):
- GET and PUT of the 1 GiB file (GET to /dev/null; PUT from tmpfs to tmpfs, size checked),
  MB/s from the client process's wall time;
- the 2,000 small files (the small-files row's files) fetched in one session, each written to
  its own file in a fresh tmpfs folder (so that what arrived can be counted), files/s. A
  client still running after tls_small_budget seconds is stopped (its process group, by PID)
  and its rate is the files it completed in that time: curl 7.88 stalls 1 s before most FTPS
  data connections and lftp's TLS 1.3 handshakes wait 40 ms each, so 2,000 files would take
  them minutes to tens of minutes.
Before the timed runs each system fetches one file once with its client's debug output on,
and the TLS version, cipher and session resumption it shows are reported (lftp `debug 13`:
GnuTLS's handshake log; curl -v; sftp -v: kex and cipher lines; ferry -v).

Standard library only; the helpers (processes, servers, records) are bench/run.py's, passed in
as `rt`. Nothing here runs in `make test`.
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# ferry over TLS, for when it lands (issue 9): ferryd makes its own certificate in --state-dir,
# the client insists on TLS (--tls: no plaintext fallback in a TLS row), trusts a new server
# key with --accept-new and keeps what it trusts under $HOME, which is a folder of this run
# (XDG_* unset). {state} and {home} are filled in per run. An argument in OPTIONAL_ARGS is
# given only when the program's --help lists it, so that these rows run with the ferry of
# today (no TLS) and with the ferry with TLS alike.
FERRY_TLS_SERVER_ARGS = ["--state-dir", "{state}"]
FERRY_TLS_CLIENT_ARGS = ["--tls", "--accept-new"]
# ferry in plaintext: the client's --plain (once it speaks TLS by default), and a ferryd of
# this run's own --state-dir (so that a ferryd with TLS makes no key under root's home).
FERRY_PLAINTEXT_CLIENT_ARGS = ["--plain"]
FERRY_PLAINTEXT_SERVER_ARGS = ["--state-dir", "{state}"]
OPTIONAL_ARGS = {"--plain", "--state-dir"}

FERRY_PLAIN = "ferry (plaintext)"
FERRY_TLS = "ferry (TLS)"
LFTP = "vsftpd+lftp (FTPS)"
LFTP12 = "vsftpd+lftp (FTPS, TLS 1.2)"
CURL = "vsftpd+curl (FTPS)"
SFTP = "sshd+sftp"
PEERS = [LFTP, LFTP12, CURL, SFTP]

TLS_TARGETS = {"tls_get": 1.5, "tls_put": 1.5, "tls_small": 2.0}   # ferry (TLS) / best peer

VSFTPD_TLS = [
    "ssl_enable=YES", "allow_anon_ssl=YES", "force_anon_logins_ssl=YES",
    "force_anon_data_ssl=YES", "force_local_logins_ssl=YES", "force_local_data_ssl=YES",
    "ssl_tlsv1=YES", "ssl_sslv2=NO", "ssl_sslv3=NO", "ssl_ciphers=HIGH",
    "require_ssl_reuse=YES"]

GNUTLS_VERSIONS = {"3.0": "SSL 3.0", "3.1": "TLS 1.0", "3.2": "TLS 1.1", "3.3": "TLS 1.2",
                   "3.4": "TLS 1.3"}


def run_bounded(cmd, timeout, stdin_path=None, env=None, keep=200000):
    """Runs cmd in its own process group; past the timeout that group is killed (by the
    child's PID). Returns (wall seconds, rc, tail of the output, killed)."""
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    out = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=fin, stdout=out, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    if stdin_path:
        fin.close()
    killed = False
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = p.wait()
    wall = time.perf_counter() - t0
    out.seek(0)
    text = out.read()[-keep:].decode(errors="replace")
    out.close()
    return wall, rc, text, killed


def gnutls_handshakes(text):
    """The TLS handshakes in lftp's `debug 13` output (GnuTLS's log), one per ClientHello
    that got a ServerHello: version, cipher suite, key-exchange group, resumed. A resumed TLS
    1.3 handshake logs "selected PSK-resumption mode"; a resumed (abbreviated) TLS 1.2 one
    selects no cipher suite and no group, the session's are reused."""
    out = []
    for seg in re.split(r"HSK\[0x[0-9a-f]+\]: Adv\. version: ", text)[1:]:
        sv = re.search(r"Server's version: (\d\.\d)", seg)
        if not sv:
            continue     # a ClientHello answered by a HelloRetryRequest, or none
        nv = re.search(r"Negotiated version: (\d\.\d)", seg)
        v = (nv or sv).group(1)
        sel = re.search(r"Selected cipher suite: (\S+)", seg)
        any_cs = re.search(r"Cipher Suite: (\S+)", seg)
        grp = re.search(r"Selected group (\S+)", seg)
        psk = "selected PSK-resumption mode" in seg
        out.append({"version": GNUTLS_VERSIONS.get(v, v),
                    "cipher": (sel or any_cs).group(1) if (sel or any_cs) else "?",
                    "group": grp.group(1) if grp else None,
                    "resumed": psk or (v != "3.4" and not sel and bool(any_cs))})
    return out


def fill_args(args, fill, exe):
    """args with {state}/{home} filled in, an OPTIONAL_ARGS flag (and its value) dropped when
    exe's --help does not list it."""
    try:
        helptext = subprocess.run([exe, "--help"], capture_output=True, text=True,
                                  timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        helptext = ""
    out, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in OPTIONAL_ARGS and not re.search(r"(^|[\s,])%s\b" % re.escape(a), helptext):
            skip = i + 1 < len(args) and not args[i + 1].startswith("-")
            continue
        out.append(a.format(**fill))
    return out


def have(prog):
    return bool(shutil.which(prog))


class TlsGroup:
    """The TLS row group; b is bench/run.py's Bench (files, records), rt that module."""

    def __init__(self, b, rt, ferry_tls=False):
        self.b, self.rt = b, rt
        self.ferry_tls = ferry_tls
        self.srvs = {}
        self.notes = []
        self.negotiated = {}
        self.made_run_sshd = False
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    # -- set-up
    def detect(self):
        b, rt = self.b, self.rt
        self.systems = [FERRY_PLAIN] + ([FERRY_TLS] if self.ferry_tls else [])
        why = {}
        vs = rt.vsftpd_bin()
        if b.args.ferry_only:
            why = {p: "--ferry-only" for p in PEERS}
        else:
            if not vs:
                why[LFTP] = why[LFTP12] = why[CURL] = "vsftpd not installed"
            elif os.geteuid() != 0:
                why[LFTP] = why[LFTP12] = why[CURL] = "vsftpd needs root for its anonymous chroot"
            if not have("openssl"):
                why[LFTP] = why[LFTP12] = why[CURL] = "openssl (to make the certificate) not installed"
            for s, prog in ((LFTP, "lftp"), (LFTP12, "lftp"), (CURL, "curl")):
                if s not in why and not have(prog):
                    why[s] = prog + " not installed"
            if not os.access("/usr/sbin/sshd", os.X_OK):
                why[SFTP] = "openssh-server (/usr/sbin/sshd) not installed"
            elif not (have("sftp") and have("ssh-keygen")):
                why[SFTP] = "openssh-client (sftp, ssh-keygen) not installed"
            elif os.geteuid() != 0 and not os.path.isdir("/run/sshd"):
                why[SFTP] = "sshd needs /run/sshd (its privilege separation folder), made by root"
        for s in PEERS:
            if s in why:
                b.skipped.append("TLS rows: %s skipped: %s" % (s, why[s]))
            else:
                self.systems.append(s)

    def setup(self):
        b, rt = self.b, self.rt
        self.dir = b.work / "tls"
        self.dir.mkdir()
        self.out = b.work / "tls-out"      # where the small files land, emptied per run
        if any(s in self.systems for s in (LFTP, LFTP12, CURL)):
            try:
                self.start_vsftpd()
            except Exception as e:
                self.drop((LFTP, LFTP12, CURL), "vsftpd with TLS failed to start: %s" % e)
        if SFTP in self.systems:
            try:
                self.start_sshd()
            except Exception as e:
                self.drop((SFTP,), "sshd failed to start: %s" % e)
        for s in (FERRY_PLAIN, FERRY_TLS):
            if s in self.systems:
                try:
                    self.start_ferryd(s)
                except Exception as e:
                    self.drop((s,), "ferryd failed to start: %s" % e)
                    b.record("tls_get", s, None, None, "ferryd failed to start: %s" % e)

    def drop(self, systems, why):
        for s in systems:
            if s in self.systems:
                self.systems.remove(s)
                self.b.skipped.append("TLS rows: %s skipped: %s" % (s, why))

    def make_cert(self):
        d = self.dir / "cert"
        d.mkdir()
        cert, key = d / "cert.pem", d / "key.pem"
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                            "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("openssl req: " + r.stderr[-300:])
        os.chmod(key, 0o600)
        return cert, key

    def start_vsftpd(self):
        cert, key = self.make_cert()
        self.srvs["vsftpd"] = self.rt.start_vsftpd(
            self.b.srv, self.b.work, extra=VSFTPD_TLS + ["rsa_cert_file=%s" % cert,
                                                         "rsa_private_key_file=%s" % key],
            name="vsftpd-tls")
        # it speaks TLS only after AUTH TLS: a plaintext login must be refused
        with socket.create_connection((self.rt.HOST, self.srvs["vsftpd"].port), timeout=5) as s:
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"USER anonymous\r\n")
            line = f.readline()
            f.close()
        if not line.startswith(b"530"):
            raise RuntimeError("vsftpd let a plaintext USER through: %r" % line)

    def start_sshd(self):
        rt, d = self.rt, self.dir / "ssh"
        d.mkdir()
        os.chmod(d, 0o700)
        for k in ("host", "user"):
            r = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                "ferry-bench-" + k, "-f", str(d / (k + "_ed25519"))],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise RuntimeError("ssh-keygen: " + r.stderr[-300:])
        shutil.copy(d / "user_ed25519.pub", d / "authorized_keys")
        self.ssh_key = d / "user_ed25519"
        # sshd's privilege separation folder is compiled in (/run/sshd); none of sshd_config
        # moves it. Made here when missing, removed at the end when still empty.
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)
            self.made_run_sshd = True
            self.notes.append("/run/sshd (sshd's privilege separation folder, compiled in) "
                              "did not exist: made for the run, removed after")
        port = rt.free_port()
        conf = d / "sshd_config"
        conf.write_text("\n".join([
            "ListenAddress %s" % rt.HOST, "Port %d" % port,
            "HostKey %s" % (d / "host_ed25519"), "PidFile %s" % (d / "sshd.pid"),
            "AuthorizedKeysFile %s" % (d / "authorized_keys"),
            "PubkeyAuthentication yes", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
            "AllowUsers %s" % self.user, "StrictModes no", "UsePAM no", "UseDNS no",
            "PrintMotd no", "MaxStartups 100:30:200",
            "Subsystem sftp internal-sftp", "LogLevel INFO", ""]))
        r = subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(conf)], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("sshd -t: " + (r.stderr or r.stdout)[-300:])
        logf = d / "sshd.log"
        p = rt.PROCS.start(["/usr/sbin/sshd", "-D", "-e", "-f", str(conf)], logf)

        def banner():
            if p.poll() is not None:
                return True
            try:
                with socket.create_connection((rt.HOST, port), timeout=1) as s:
                    return s.recv(64).startswith(b"SSH-2.0-")
            except OSError:
                return False
        rt.wait_for(banner, "sshd's banner")
        if p.poll() is not None:
            raise RuntimeError("sshd exited: " + logf.read_text(errors="replace")[-500:])
        self.srvs["sshd"] = rt.Server("sshd", p, port, logf)

    def start_ferryd(self, system):
        tls = system == FERRY_TLS
        state = self.dir / ("ferryd-state-tls" if tls else "ferryd-state")
        home = self.dir / ("ferry-home-tls" if tls else "ferry-home")
        state.mkdir(mode=0o700)
        home.mkdir(mode=0o700)
        fill = {"state": str(state), "home": str(home)}
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        env["HOME"] = str(home)
        sargs = fill_args(FERRY_TLS_SERVER_ARGS if tls else FERRY_PLAINTEXT_SERVER_ARGS,
                          fill, self.b.ferryd)
        cargs = fill_args(FERRY_TLS_CLIENT_ARGS if tls else FERRY_PLAINTEXT_CLIENT_ARGS,
                          fill, self.b.ferry)
        srv = self.rt.start_ferryd(self.b.ferryd, self.b.srv, self.b.work, extra_args=sargs,
                                   env=env)
        srv.client_args = cargs
        srv.client_env = env
        srv.server_args = sargs
        self.notes.append("%s: ferryd %s, ferry %s" % (system, " ".join(sargs) or "(no more "
                                                       "arguments)", " ".join(cargs) or
                                                       "(no more arguments)"))
        self.srvs[system] = srv

    def stop(self):
        for s in list(self.srvs.values()):
            s.stop()
        self.srvs = {}
        if self.made_run_sshd:
            try:
                os.rmdir("/run/sshd")
            except OSError:
                pass

    # -- clients
    def lftp_script(self, name, system, lines, debug=False):
        rt = self.rt
        sets = rt.LFTP_SET.replace("set ftp:ssl-allow no; ", "") + (
            "set ftp:ssl-allow yes; set ftp:ssl-force true; set ftp:ssl-allow-anonymous true; "
            "set ftp:ssl-protect-data true; set ssl:verify-certificate no; ")
        if system == LFTP12:
            sets += 'set ssl:priority "NORMAL:-VERS-TLS1.3"; '
        if debug:
            sets = "debug 13; " + sets
        path = self.dir / name
        path.write_text(sets.replace("; ", "\n") + "open ftp://%s:%d\n" % (
            rt.HOST, self.srvs["vsftpd"].port) + "\n".join(lines) + "\nbye\n")
        return ["lftp", "-f", str(path)]

    def sftp_cmd(self, name, lines, verbose=False):
        batch = self.dir / name
        batch.write_text("\n".join(lines) + "\n")
        return ["sftp", "-b", str(batch), "-i", str(self.ssh_key), "-F", "none",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=%s" % ("DEBUG1" if verbose else "ERROR"),
                "-P", str(self.srvs["sshd"].port), "%s@%s" % (self.user, self.rt.HOST)]

    def ferry_cmd(self, system, commands=None, verbose=False):
        srv = self.srvs[system]
        cmd = [self.b.ferry, "-v" if verbose else "-q", *srv.client_args, self.rt.HOST,
               str(srv.port)]
        return cmd + (["-c", commands] if commands else []), srv.client_env

    def get_cmd(self, system):
        """(command, env) for a GET of big to /dev/null; curl prints the bytes it got."""
        rt, url = self.rt, None
        if system in (FERRY_PLAIN, FERRY_TLS):
            return self.ferry_cmd(system, "get big /dev/null")
        if system in (LFTP, LFTP12):
            return self.lftp_script("lftp-get.x", system, ["get big -o /dev/null"]), None
        if system == CURL:
            url = "ftp://%s:%d/big" % (rt.HOST, self.srvs["vsftpd"].port)
            return ["curl", "-sS", "--fail", "--ssl-reqd", "-k", "-o", "/dev/null", "-w",
                    "%{size_download}", url], None
        return self.sftp_cmd("sftp-get.b", ["get %s /dev/null" % (self.b.srv / "big")]), None

    def put_cmd(self, system):
        src, rt = self.b.big_src, self.rt
        if system in (FERRY_PLAIN, FERRY_TLS):
            return self.ferry_cmd(system, "put %s up/big2" % src)
        if system in (LFTP, LFTP12):
            return self.lftp_script("lftp-put.x", system, ["put %s -o up/big2" % src]), None
        if system == CURL:
            return ["curl", "-sS", "--fail", "--ssl-reqd", "-k", "-T", str(src),
                    "ftp://%s:%d/up/big2" % (rt.HOST, self.srvs["vsftpd"].port)], None
        return self.sftp_cmd("sftp-put.b", ["put %s %s" % (src, self.b.srv / "up" / "big2")]), None

    def small_cmd(self, system, names):
        """(command, env, stdin path) fetching names into self.out, one session."""
        out, rt = self.out, self.rt
        local = [str(out / Path(n).name) for n in names]
        if system in (FERRY_PLAIN, FERRY_TLS):
            p = self.dir / "ferry-small.txt"
            p.write_text("".join("get %s %s\n" % (n, l) for n, l in zip(names, local)))
            cmd, env = self.ferry_cmd(system)
            return cmd, env, str(p)
        if system in (LFTP, LFTP12):
            return self.lftp_script("lftp-small.x", system, [
                "get %s -o %s" % (n, l) for n, l in zip(names, local)]), None, None
        if system == CURL:
            return rt.curl_config(self.dir / "curl-small.cfg", self.srvs["vsftpd"].port,
                                  list(zip(names, local))) + ["--ssl-reqd", "-k"], None, None
        return self.sftp_cmd("sftp-small.b", ["get %s %s" % (self.b.srv / n, l)
                                              for n, l in zip(names, local)]), None, None

    # -- what was negotiated
    def probe(self):
        """Each system fetches `tiny` once with its client's debug output: TLS version,
        cipher, resumption (not timed)."""
        for system in self.systems:
            try:
                self.negotiated[system] = self.probe_one(system)
            except Exception as e:
                self.negotiated[system] = {"error": repr(e)}
            log_line = self.negotiated[system].get("summary") or self.negotiated[system]
            self.rt.log("TLS rows: %s negotiates: %s" % (system, log_line))

    def probe_one(self, system):
        rt = self.rt
        if system in (FERRY_PLAIN, FERRY_TLS):
            cmd, env = self.ferry_cmd(system, "get tiny /dev/null", verbose=True)
        elif system in (LFTP, LFTP12):
            cmd, env = self.lftp_script("lftp-probe.x", system, ["get tiny -o /dev/null"],
                                        debug=True), None
        elif system == CURL:
            cmd, env = ["curl", "-sS", "-v", "--fail", "--ssl-reqd", "-k", "-o", "/dev/null",
                        "ftp://%s:%d/tiny" % (rt.HOST, self.srvs["vsftpd"].port)], None
        else:
            cmd, env = self.sftp_cmd("sftp-probe.b", ["get %s /dev/null" % (self.b.srv / "tiny")],
                                     verbose=True), None
        _, rc, text, killed = run_bounded(cmd, 30, env=env, keep=10 ** 7)
        r = {"rc": rc}
        if system in (LFTP, LFTP12):
            conns = gnutls_handshakes(text)
            vers = [x["version"] for x in conns]
            ciphers = [x["cipher"] for x in conns]
            groups = [x["group"] for x in conns if x["group"]]
            resumed = sum(x["resumed"] for x in conns)
            r.update(connections=conns)
            r["summary"] = "%s, %s, key exchange %s; %d TLS connections (control + data), " \
                "%d resumed" % ("/".join(sorted(set(vers))) or "?",
                                "/".join(sorted(set(ciphers))) or "?",
                                "/".join(sorted(set(groups))) or "?", len(conns), resumed)
        elif system == CURL:
            conns = re.findall(r"SSL connection using (\S+) / (\S+)", text)
            resumed = len(re.findall(r"SSL re-using session ID", text))
            r.update(connections=len(conns), versions=[v for v, _ in conns],
                     ciphers=[c for _, c in conns], reuse_offered=resumed)
            r["summary"] = "%s, %s; %d TLS connections (control + data), the session " \
                "offered for resumption on %d (vsftpd requires it on data connections)" % (
                    "/".join(sorted({v for v, _ in conns})) or "?",
                    "/".join(sorted({c for _, c in conns})) or "?", len(conns), resumed)
        elif system == SFTP:
            kex = re.findall(r"kex: algorithm: (\S+)", text)
            hk = re.findall(r"kex: host key algorithm: (\S+)", text)
            c = re.findall(r"kex: (server->client|client->server) cipher: (\S+) MAC: (\S+) "
                           r"compression: (\S+)", text)
            ver = re.findall(r"Remote protocol version [\d.]+, remote software version (\S+)", text)
            r.update(kex=kex, host_key=hk, ciphers={d: {"cipher": ci, "mac": m, "compression": z}
                                                    for d, ci, m, z in c}, server=ver)
            r["summary"] = "SSH 2 (%s), kex %s, host key %s, cipher %s" % (
                "/".join(ver) or "?", "/".join(kex) or "?", "/".join(hk) or "?",
                "; ".join("%s %s (MAC %s)" % (d, ci, m) for d, ci, m, _ in c) or "?")
        else:
            # what ferry -v says of TLS: a version or cipher, or the server key it trusted
            lines = [ln.strip() for ln in text.splitlines()
                     if re.search(r"\bTLS ?v?1\.[0-3]\b|\bcipher|\bX25519\b|\bAES[-_ ]|"
                                  r"CHACHA20|\bresum|known_hosts|\bfingerprint\b", ln, re.I)]
            r.update(lines=lines[:20])
            if system == FERRY_TLS:
                r["summary"] = "; ".join(lines[:4]) if lines else \
                    "ferry -v shows neither TLS version nor cipher"
            else:
                r["summary"] = "; ".join(lines[:4]) if lines else \
                    "plaintext (ferry -v shows no TLS)"
        if rc != 0 or killed:
            r["summary"] = "probe failed (rc %d): %s" % (rc, " ".join(text.split())[-300:])
        return r

    # -- rows
    def run_repeat(self, r):
        rt, b = self.rt, self.b
        T = b.cfg["timeouts"]["tls"]
        big = b.cfg["big"]
        for system in rt.Bench.rotate(self.systems, r):
            cmd, env = self.get_cmd(system)
            wall, rc, out, killed = run_bounded(cmd, T, env=env)
            err = None
            if rc != 0 or killed:
                err = "GET rc %d%s: %s" % (rc, " (killed at the %d s timeout)" % T if killed
                                            else "", out[-500:])
            elif system == CURL and out.strip() != str(big):
                err = "curl got %s bytes, expected %d" % (out.strip(), big)
            b.record("tls_get", system, None if err else big / wall / 1e6, {"seconds": wall}, err)
            target = b.srv / "up" / "big2"
            if target.exists():
                target.unlink()
            cmd, env = self.put_cmd(system)
            wall, rc, out, killed = run_bounded(cmd, T, env=env)
            got = target.stat().st_size if target.exists() else -1
            err = None
            if rc != 0 or killed:
                err = "PUT rc %d%s: %s" % (rc, " (killed at the %d s timeout)" % T if killed
                                            else "", out[-500:])
            elif got != big:
                err = "uploaded file has %d bytes, expected %d" % (got, big)
            b.record("tls_put", system, None if err else big / wall / 1e6, {"seconds": wall}, err)
            if target.exists():
                target.unlink()
        names = b.small_names
        budget = b.cfg["tls_small_budget"]
        size = b.cfg["small_size"]
        for system in rt.Bench.rotate(self.systems, r):
            if self.out.exists():
                shutil.rmtree(self.out)
            self.out.mkdir()
            os.chmod(self.out, 0o755)
            cmd, env, stdin = self.small_cmd(system, names)
            wall, rc, out, killed = run_bounded(cmd, budget, stdin_path=stdin, env=env)
            done = 0
            for f in os.scandir(self.out):
                try:
                    if f.stat().st_size == size:
                        done += 1
                except OSError:
                    pass
            err = None
            if not killed and (rc != 0 or done != len(names)):
                err = "rc %d, %d of %d files complete: %s" % (rc, done, len(names), out[-500:])
            elif killed and done == 0:
                err = "no file complete in the %g s budget: %s" % (budget, out[-500:])
            b.record("tls_small", system, None if err else done / wall,
                     {"seconds": wall, "files": done, "of": len(names), "stopped_at_budget": killed},
                     err)
        if self.out.exists():
            shutil.rmtree(self.out)


# ----------------------------------------------------------------------------------------
# The group, called by bench/run.py

def run_group(b, rt, reps):
    """Starts the TLS rows' servers, probes, runs `reps` repeats, stops everything."""
    g = TlsGroup(b, rt, ferry_tls=getattr(b.args, "ferry_tls", True))
    t0 = time.monotonic()
    g.detect()
    try:
        g.setup()
        rt.log("TLS rows: systems %s" % ", ".join(g.systems))
        g.probe()
        for r in range(reps):
            rt.log("TLS rows, repeat %d/%d" % (r + 1, reps))
            g.run_repeat(r)
    finally:
        g.stop()
    sessions = run_sessions(b, rt)
    b.extra["tls"] = {
        "systems": g.systems, "negotiated": g.negotiated, "notes": g.notes,
        "seconds": round(time.monotonic() - t0, 1), "repeats": reps,
        "small_budget_s": b.cfg["tls_small_budget"], "vsftpd_conf_tls": VSFTPD_TLS,
        "ferry_tls_server_args": FERRY_TLS_SERVER_ARGS,
        "ferry_tls_client_args": FERRY_TLS_CLIENT_ARGS,
        "ferry_tls_enabled": g.ferry_tls, "user": g.user, "sessions": sessions}
    rt.log("TLS rows: %.0f s" % b.extra["tls"]["seconds"])


def run_sessions(b, rt):
    """bench/tls_sessions.py: idle TLS sessions' memory, handshakes with and without
    resumption, small GETs over TLS and in plaintext, a login flood. Its lines, or why not."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tls_sessions.py")
    quick = ["--sessions", "200", "--handshakes", "20", "--files", "50", "--repeats", "1",
             "--logins", "10"] if b.args.quick else []
    os.makedirs(str(b.args.out), exist_ok=True)
    out = os.path.join(str(b.args.out), "tls_sessions.json")
    rt.log("TLS sessions (bench/tls_sessions.py)")
    try:
        done = subprocess.run([sys.executable, "-B", script, "--ferryd", b.args.ferryd,
                               "--ferry", b.args.ferry, "--out", out] + quick,
                              capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"lines": [], "error": "bench/tls_sessions.py took over 900 s"}
    if done.returncode != 0:
        return {"lines": [], "error": done.stderr.strip()[-500:]}
    return {"lines": done.stdout.strip().splitlines(), "error": None}


def versions():
    """Package versions of the TLS peers (for the report's Versions line)."""
    out = {}
    for pkg in ("openssh-server", "openssh-client", "openssl", "libssl3", "libgnutls30"):
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        out[pkg] = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "not installed"
    return out


def section(b, rt, summary):
    """The markdown of the TLS rows, and their summary into `summary`."""
    t = b.extra.get("tls")
    if not t:
        return []
    d, c = b.data, b.cfg
    big = "%d GiB" % (c["big"] // rt.GiB) if c["big"] >= rt.GiB else "%d MiB" % (c["big"] // rt.MiB)
    n = c["small_n"]
    lines = ["## TLS side by side (issue 9, section 4)", "",
             "Every system on 127.0.0.1, files on tmpfs, %d repeats, the systems interleaved "
             "(order rotated per repeat); cells are median (min–max). GET %s to /dev/null, PUT "
             "%s from tmpfs to tmpfs, MB/s = 10^6 bytes/s over the client's wall time. Small "
             "files: the %s files of %d KiB fetched in one session, each into its own tmpfs "
             "file; a client still running after %g s is stopped and its rate is the files it "
             "completed in that time (the count is in brackets). Group time %.0f s." % (
                 t["repeats"], big, big, "{:,}".format(n), c["small_size"] // rt.KiB,
                 t["small_budget_s"], t["seconds"]), "",
             "| system | GET %s, MB/s | PUT %s, MB/s | %s small files in one session, files/s "
             "| negotiated |" % (big, big, "{:,}".format(n)), "|---|---|---|---|---|"]
    for s in t["systems"]:
        ex = b.extra.get("tls_small", {}).get(s) or []
        counts = sorted({x["files"] for x in ex if x})
        cnt = "" if counts == [n] or not counts else " [%s of %s files]" % (
            "–".join("{:,}".format(x) for x in sorted({counts[0], counts[-1]})),
            "{:,}".format(n))
        neg = (t["negotiated"].get(s) or {}).get("summary") or \
            (t["negotiated"].get(s) or {}).get("error") or "—"
        lines.append("| %s | %s | %s | %s%s | %s |" % (
            s, rt.cell(rt.stats(d.get("tls_get", {}).get(s, []))),
            rt.cell(rt.stats(d.get("tls_put", {}).get(s, []))),
            rt.cell(rt.stats(d.get("tls_small", {}).get(s, []))), cnt, neg.replace("|", "/")))
    lines.append("")
    ferry = FERRY_TLS if FERRY_TLS in t["systems"] else FERRY_PLAIN
    peers = [s for s in t["systems"] if s in PEERS]
    lines += ["| row | %s | best TLS peer | ratio (per-repeat pairs) | target (ferry (TLS)) | |"
              % ferry, "|---|---|---|---|---|---|"]
    for row, label in (("tls_get", "GET %s, MB/s" % big), ("tls_put", "PUT %s, MB/s" % big),
                       ("tls_small", "%s small files in one session, files/s" % "{:,}".format(n))):
        bp = rt.best(d, row, peers) if peers else None
        rp = rt.pair_ratio(d, row, ferry, bp) if bp else None
        if ferry == FERRY_TLS:
            v = "not measured" if not rp else (
                "**met**" if rp["median"] >= TLS_TARGETS[row] else "**not met**")
        else:
            v = "not measured: ferry has no TLS yet (plaintext shown for reference)"
        summary[row + "_vs_peer"] = {"ferry": ferry, "best_peer": bp, "ratio": rp,
                                     "target": TLS_TARGETS[row], "verdict": v}
        lines.append("| %s | %s | %s | %s / best peer: %s | ≥ %.1f | %s |" % (
            label, rt.cell(rt.stats(d.get(row, {}).get(ferry, []))),
            ("%s: %s" % (bp, rt.cell(rt.stats(d[row][bp])))) if bp else "no peer",
            ferry, rt.cell(rp, 2) if rp else "—", TLS_TARGETS[row], v))
    lines += ["", "TLS notes:",
              "- vsftpd %s: `%s`, anonymous as in the plaintext rows, a self-signed P-256 "
              "certificate made for the run. Debian's vsftpd 3.0.3 has no ssl_tlsv1_2 / "
              "ssl_tlsv1_3: ssl_tlsv1=YES lets OpenSSL pick, and it picks TLS 1.3; ssl_ciphers "
              "applies to TLS 1.2 only, and Debian's default (ECDHE-RSA-AES256-GCM-SHA384) "
              "needs an RSA key, so HIGH here. require_ssl_reuse=YES (the default): each data "
              "connection resumes the control connection's TLS session." % (
                  rt.deb_version("vsftpd"), " ".join(VSFTPD_TLS)),
              "- lftp: `set ftp:ssl-force true; set ftp:ssl-allow-anonymous true; set "
              "ftp:ssl-protect-data true; set ssl:verify-certificate no` (without "
              "ssl-allow-anonymous lftp logs in as anonymous in plaintext, and vsftpd refuses); "
              "the TLS 1.2 row adds `set ssl:priority \"NORMAL:-VERS-TLS1.3\"`. lftp sets no "
              "TCP_NODELAY: in a TLS 1.3 handshake it writes ChangeCipherSpec and Finished in "
              "two sends, Nagle holds the second until vsftpd's delayed ACK, ~40 ms per data "
              "connection (seen with strace), which is what its small-files rate shows.",
              "- curl %s: `--ssl-reqd -k ftp://...` (explicit FTPS); many URLs in one "
              "invocation (`-K`) reuse the control connection. It stalls 1 s (a poll timeout) "
              "after most EPSV replies over TLS before it connects the data connection, which "
              "bounds its small-files rate." % rt.deb_version("curl"),
              "- sftp: OpenSSH %s, sshd on its own sshd_config (publickey only, UsePAM no, "
              "internal-sftp), ed25519 host and user keys made for the run, default ciphers; "
              "`sftp -b BATCH -F none -i KEY -P PORT %s@127.0.0.1`; the small files are %s "
              "`get` lines in one batch." % (rt.deb_version("openssh-server"), t["user"],
                                             "{:,}".format(n)),
              "- ferry: `%s` is ferryd and ferry without TLS (the client's --plain when it "
              "has one); `%s` is ferryd with a --state-dir of the run and ferry --tls "
              "--accept-new, $HOME a folder of the run (bench/run.py; --no-ferry-tls leaves it out; %s). The "
              "arguments each was given:" % (
                  FERRY_PLAIN, FERRY_TLS, "run" if t["ferry_tls_enabled"] else
                  "not run: off until ferry's TLS lands")]
    for x in t["notes"]:
        lines.append("- " + x)
    sessions = t.get("sessions") or {}
    lines += ["", "TLS sessions (bench/tls_sessions.py, ferryd alone):"]
    lines += ["- " + x for x in sessions.get("lines", [])]
    if sessions.get("error"):
        lines.append("- not measured: " + sessions["error"])
    lines.append("")
    return lines


def check(b):
    """Problems with the TLS rows for bench/run.py's exit status: ferry's figures."""
    t = b.extra.get("tls")
    if not t:
        return ["TLS rows asked for, but not run"]
    problems = []
    for s in (FERRY_PLAIN, FERRY_TLS):
        if s not in t["systems"] and not (s == FERRY_TLS and t["ferry_tls_enabled"]):
            continue
        for row in ("tls_get", "tls_put", "tls_small"):
            vals = b.data.get(row, {}).get(s)
            if not vals or any(v is None or v != v or v <= 0 for v in vals):
                problems.append("%s: figure missing or not positive for %s" % (s, row))
    for row, s, e in b.failures:
        if row.startswith("tls_") and s.startswith("ferry"):
            problems.append("%s failed on %s: %s" % (s, row, " ".join(e.split())[-300:]))
    return problems
