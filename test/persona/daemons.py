"""The real Debian daemons the linux persona's suites run beside lure, each on
a free loopback port and configured as the persona claims it: vsftpd
(test_diff_ftp.py), mariadbd (test_diff_mysql.py), redis-server
(test_redis.py), Postfix (test_diff_smtp.py). Also used by test/bench/logins.py. Each is a context
manager yielding (process, port); <name>_missing() says why it cannot run
here (None when it can): the suites skip with that reason."""
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ssh_common import free_port, wait_port

VSFTPD = "/usr/sbin/vsftpd"
# the stock /etc/vsftpd.conf's settings and write_enable=YES, as the
# persona; seccomp_sandbox=NO for containers
VSFTPD_CONF = """listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
dirmessage_enable=YES
use_localtime=YES
xferlog_enable=NO
connect_from_port_20=YES
secure_chroot_dir={empty}
pam_service_name=vsftpd
ssl_enable=NO
seccomp_sandbox=NO
"""

MARIADBD = "/usr/sbin/mariadbd"
MARIADB_PASSWORD = b"123456"  # the persona's mysql.accept for root

REDIS_CONF = "/etc/redis/redis.conf"

POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
# Debian 12's main.cf for "Internet Site" (myhostname debian, the
# snakeoil certificate) but for mynetworks, which leaves loopback out so
# that Postfix answers as to a client from outside (the persona's view),
# and the paths
POSTFIX_MAIN_CF = """smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6
smtpd_tls_cert_file={d}/cert.pem
smtpd_tls_key_file={d}/key.pem
smtpd_tls_security_level=may
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:${{data_directory}}/smtp_scache
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = debian
alias_maps = hash:{d}/aliases
alias_database = hash:{d}/aliases
mydestination = $myhostname, debian, localhost.localdomain, localhost
relayhost =
mynetworks = 192.0.2.1/32
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = {d}/spool
data_directory = {d}/data
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtpd_sasl_type = cyrus
cyrus_sasl_config_path = {d}/etc/sasl
"""
# master.cf: the stock submission block uncommented, with Cyrus SASL
# (sasldb, mech_list PLAIN LOGIN) for AUTH; no qmgr: nothing is delivered
POSTFIX_MASTER_CF = """127.0.0.1:{p25} inet n - n - - smtpd
127.0.0.1:{p587} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_reject_unlisted_recipient=no
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
cleanup unix n - n - 0 cleanup
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def stop(p, timeout=30):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def vsftpd_missing():
    if os.geteuid() != 0 or not os.access(VSFTPD, os.X_OK):
        return "needs root and vsftpd"
    return None


@contextlib.contextmanager
def vsftpd(d):
    """Debian's vsftpd 3.0.3 in the foreground, its files in directory d
    (a Path)."""
    (d / "empty").mkdir()
    os.chmod(d / "empty", 0o755)
    port = free_port()
    cfg = d / "vsftpd.conf"
    cfg.write_text(VSFTPD_CONF.format(port=port, empty=d / "empty"))
    p = subprocess.Popen([VSFTPD, str(cfg)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        try:
            wait_port(port, 5)
        except AssertionError:
            pass  # as before: the probes then fail, saying more
        yield p, port
    finally:
        p.kill()
        p.wait()


def mariadbd_missing():
    if not os.access(MARIADBD, os.X_OK) or not shutil.which("mariadb-install-db"):
        return "needs mariadb-server"
    if os.geteuid() != 0:
        return "mariadbd runs as the mysql user here (Debian's accounts)"
    return None


@contextlib.contextmanager
def mariadbd():
    """Debian's mariadbd with a datadir made by mariadb-install-db
    --user=mysql (Debian's postinst accounts), Debian's 50-server.cnf
    character set, root given MARIADB_PASSWORD as README.Debian says
    (unix_socket OR mysql_native_password). Its directory is outside
    pytest's (mode 0700 there: the mysql user could not reach it)."""
    d = Path(tempfile.mkdtemp(prefix="lure-mariadb-"))
    os.chmod(d, 0o755)
    data = d / "data"
    data.mkdir()
    shutil.chown(d, "mysql", "mysql")
    shutil.chown(data, "mysql", "mysql")
    r = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
                        "--user=mysql", "--skip-test-db"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    port, sock = free_port(), d / "sock"
    p = subprocess.Popen([MARIADBD, "--no-defaults", f"--datadir={data}", "--user=mysql",
                          f"--socket={sock}", f"--port={port}", "--bind-address=127.0.0.1",
                          "--character-set-server=utf8mb4",
                          "--collation-server=utf8mb4_general_ci",
                          f"--pid-file={d / 'pid'}", f"--log-error={d / 'err.log'}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while True:
            r = subprocess.run(["mariadb", "-S", str(sock), "-uroot", "-e",
                                "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR "
                                "mysql_native_password USING PASSWORD('%s')"
                                % MARIADB_PASSWORD.decode()], capture_output=True)
            if r.returncode == 0:
                break
            assert p.poll() is None, (d / "err.log").read_text()
            assert time.monotonic() < end, r.stderr.decode()
            time.sleep(0.2)
        yield p, port
    finally:
        stop(p)
        shutil.rmtree(d, ignore_errors=True)


def redis_missing():
    if not shutil.which("redis-server") or not os.path.isfile(REDIS_CONF):
        return "needs redis-server (sh tools/deps.sh persona)"
    return None


@contextlib.contextmanager
def redis_server(d):
    """Debian's redis-server with the persona's config (Debian's
    redis.conf, bind and protected-mode opened, no password), its files in
    directory d (a Path)."""
    port = free_port()
    conf = open(REDIS_CONF).read()
    over = {"bind": "127.0.0.1", "protected-mode": "no", "port": str(port),
            "daemonize": "no", "pidfile": str(d / "redis.pid"),
            "logfile": '""', "dir": str(d), "save": '""'}
    lines = [ln for ln in conf.splitlines()
             if ln.split(" ", 1)[0] not in over]
    lines += [f"{k} {v}" for k, v in over.items()]
    (d / "redis.conf").write_text("\n".join(lines) + "\n")
    p = subprocess.Popen([shutil.which("redis-server"), str(d / "redis.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 10)
        yield p, port
    finally:
        stop(p, 10)


def postfix_missing():
    if os.geteuid() != 0 or not os.access(POSTFIX_MASTER, os.X_OK) or \
            not shutil.which("saslpasswd2"):
        return "needs root, postfix and sasl2-bin"
    return None


@contextlib.contextmanager
def postfix():
    """A private Postfix: (process, (port 25's stand-in, 587's)). Its
    directory is under /tmp itself: pytest's are 0700 and Postfix's
    daemons run as the postfix user."""
    d = Path(tempfile.mkdtemp(prefix="lure-postfix-"))
    os.chmod(d, 0o755)
    for sub in ("etc/sasl", "spool", "data"):
        (d / sub).mkdir(parents=True)
    shutil.chown(d / "data", "postfix")
    # a snakeoil certificate as make-ssl-cert makes it (CN = the host)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-sha256", "-days", "3650", "-subj",
                    "/CN=debian", "-keyout", d / "key.pem", "-out",
                    d / "cert.pem"], check=True, capture_output=True)
    (d / "aliases").write_text("postmaster: root\n")
    p25, p587 = free_port(), free_port()
    (d / "etc/main.cf").write_text(POSTFIX_MAIN_CF.format(d=d))
    (d / "etc/master.cf").write_text(
        POSTFIX_MASTER_CF.format(p25=p25, p587=p587))
    (d / "etc/sasl/smtpd.conf").write_text(
        "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
        f"mech_list: PLAIN LOGIN\nsasldb_path: {d}/sasldb2\n")
    subprocess.run(["saslpasswd2", "-f", d / "sasldb2", "-p", "-c", "-u",
                    "debian", "mailuser"], input=b"S3cret-not-guessed\n",
                   check=True)
    shutil.chown(d / "sasldb2", "postfix")
    subprocess.run(["postalias", "-c", d / "etc", d / "aliases"], check=True)
    subprocess.run(["postfix", "-c", d / "etc", "check"],
                   capture_output=True)
    env = dict(os.environ, MAIL_CONFIG=str(d / "etc"))
    p = subprocess.Popen([POSTFIX_MASTER, "-c", d / "etc", "-d"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(p25, 10)
        wait_port(p587, 10)
        yield p, (p25, p587)
    finally:
        stop(p)
        shutil.rmtree(d, ignore_errors=True)


XVNC = "/usr/bin/Xvnc"


def xvnc_missing():
    if not os.access(XVNC, os.X_OK) or not shutil.which("vncpasswd"):
        return "needs tigervnc-standalone-server and tigervnc-tools"
    return None


@contextlib.contextmanager
def xvnc(d, password, ready_from="127.86.255.1"):
    """Debian 12's Xvnc (TigerVNC 1.12) as `vncserver -localhost no` runs
    it: VncAuth and TLSVnc with a password file from vncpasswd, files in
    directory d (a Path): (process, port). Ready once a connect() from
    ready_from succeeds (every connection counts in Xvnc's blacklist of
    addresses: from one nobody else uses)."""
    pw = d / "passwd"
    pw.write_bytes(subprocess.run(["vncpasswd", "-f"], input=password.encode() + b"\n",
                                  capture_output=True, check=True).stdout)
    port = free_port()
    # a display number of our own: the X lock files are machine-wide
    for disp in range(100 + os.getpid() % 300, 1000):
        if not os.path.exists(f"/tmp/.X{disp}-lock") and \
                not os.path.exists(f"/tmp/.X11-unix/X{disp}"):
            break
    p = subprocess.Popen([XVNC, f":{disp}", "-rfbport", str(port), "-localhost",
                          "-SecurityTypes", "VncAuth,TLSVnc", "-rfbauth", str(pw),
                          "-desktop", "debian:0 (root)", "-geometry", "1920x1200",
                          "-depth", "24", "-nolisten", "tcp"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    try:
        for _ in range(200):
            s = socket.socket()
            try:
                s.bind((ready_from, 0))
                s.connect(("127.0.0.1", port))
                break
            except OSError:
                assert p.poll() is None, "Xvnc exited"
                time.sleep(0.05)
            finally:
                s.close()
        yield p, port
    finally:
        stop(p, 10)
