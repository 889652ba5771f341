"""The real Debian daemons the linux persona's suites run beside lure, each on
a free loopback port and configured as the persona claims it: vsftpd
(test_diff_ftp.py), mariadbd (test_diff_mysql.py), redis-server
(test_redis.py). Also used by test/bench/logins.py. Each is a context
manager yielding (process, port); <name>_missing() says why it cannot run
here (None when it can): the suites skip with that reason."""
import contextlib
import os
import shutil
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
