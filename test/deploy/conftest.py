"""Deployment tests: the systemd unit, the Ansible playbooks, the health queries, the .ipk and the
qemu-system images, each against the real thing.

    python3 -m pytest -q test/deploy        (or make test-deploy)

Test hosts are Debian 12 containers the suite boots itself (systemd-nspawn --boot, each in its own
private network namespace, a read-only root from build/deploy/rootfs shared by all of them with a
tmpfs overlay). Ansible reaches each host's sshd on the host's own 127.0.0.1:22 through
`nsenter --net ... nc` as ProxyCommand; a sensor in a container reaches the suite's OpenSearch node
at its own 127.0.0.1:9200 through two socat hops (container loopback -> a unix socket ->
127.0.0.1:<node>). No address outside 127.0.0.0/8 is used anywhere.

The OpenSearch node and helpers come from test/ship/conftest.py (start_node, wait_until, get).
LURE_DEPLOY_BIN: the static binary deployed (default build/x86_64-generic/lure, built when missing).
"""
import fcntl
import functools
import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "deploy"
ROOTFS = BUILD / "rootfs"
ROOTFS_PKGS = "systemd,systemd-sysv,dbus,openssh-server,python3,logrotate"
SSH_KEY = BUILD / "ssh" / "id_ed25519"
ANSIBLE_DIR = REPO / "platform" / "ansible"

_spec = importlib.util.spec_from_file_location("ship_helpers", REPO / "test" / "ship" / "conftest.py")
ship = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ship)
wait_until = ship.wait_until
get = ship.get
TEMPLATE = ship.TEMPLATE


def make_env():
    """The environment for the suite's own `make` calls: nothing inherited from an outer make
    (make test-san's SAN=1 must not reach a static musl build)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def run(cmd, timeout=120, check=True, **kw):
    """cmd; a make (the .ipk and image tests build build/<target>-generic/) waits for any other
    make of the suite: make test-deploy runs the modules in parallel (pytest-xdist)."""
    lock = None
    if not isinstance(cmd, str) and cmd and cmd[0] == "make":
        BUILD.mkdir(parents=True, exist_ok=True)
        lock = open(BUILD / ".make.lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    finally:
        if lock:
            lock.close()
    if check and r.returncode != 0:
        pytest.fail(f"{cmd if isinstance(cmd, str) else ' '.join(map(str, cmd))}: rc={r.returncode}\n"
                    f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def need(*cmds):
    missing = [c for c in cmds if not shutil.which(c)]
    if missing:
        run(["sh", str(REPO / "tools" / "deps.sh"), "deploy"], timeout=900)
    missing = [c for c in cmds if not shutil.which(c)]
    if missing:
        pytest.fail(f"missing after tools/deps.sh deploy: {missing}")


# --- the binary ------------------------------------------------------------------------------------

def deploy_bin():
    env = os.environ.get("LURE_DEPLOY_BIN")
    p = Path(env) if env else REPO / "build" / "x86_64-generic" / "lure"
    if not p.is_absolute():
        p = REPO / p
    if not env:
        run(["make", "-C", str(REPO), "TARGET=x86_64", "-j2"], timeout=600, env=make_env())
    assert os.access(p, os.X_OK), f"{p}: not executable"
    return p


# --- a root for `lure -t` as the target runs it ----------------------------------------------------

NOBODY = 65534


@functools.lru_cache(maxsize=None)
def make_ca():
    """A CA certificate (PEM) the TLS backend parses, for a config's ca_file."""
    d = Path(tempfile.mkdtemp(prefix="lure-deploy-ca-"))
    try:
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", "/CN=lure deploy test CA", "-days", "2", "-keyout", str(d / "key.pem"),
             "-out", str(d / "ca.pem")])
        return (d / "ca.pem").read_bytes()
    finally:
        shutil.rmtree(d)


def make_root(path, files=(), dirs=()):
    """A directory to chroot into, laid out as the target's file system: files = {abs path: (bytes,
    mode)}, dirs = {abs path: (uid, mode)}; /etc/passwd and /etc/group name root and nobody (lure
    drops to a user by name). `lure -t` then checks the target's own absolute paths."""
    root = Path(path)
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir(mode=0o1777, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    (root / "dev").mkdir(exist_ok=True)
    if not (root / "dev/null").exists():
        os.mknod(root / "dev/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(root / "dev/null", 0o666)
    (root / "etc/passwd").write_text(f"root:x:0:0:root:/root:/bin/sh\nnobody:x:{NOBODY}:{NOBODY}:nobody:/:/bin/false\n")
    (root / "etc/group").write_text(f"root:x:0:\nnogroup:x:{NOBODY}:\n")
    for d, (uid, mode) in dict(dirs).items():
        p = root / d.lstrip("/")
        p.mkdir(parents=True, exist_ok=True)
        os.chown(p, uid, uid)
        os.chmod(p, mode)
    for f, (body, mode) in dict(files).items():
        p = root / f.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
        os.chmod(p, mode)
    return root


def in_root(root, cmd, user=None, env=None, check=False, timeout=60):
    """cmd inside root (chroot), as root or as user ("uid:gid", as systemd's dynamic user)."""
    pre = ["chroot"] + ([f"--userspec={user}"] if user else []) + [str(root)]
    e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    e.update(env or {})
    return run(["env", "-i"] + [f"{k}={v}" for k, v in e.items()] + pre + list(cmd), check=check, timeout=timeout)


# --- the container root -----------------------------------------------------------------------------

def rootfs():
    """build/deploy/rootfs: Debian 12 minbase + systemd, sshd, python3 and logrotate (mmdebstrap, ~25 s once),
    root's authorized_keys = the suite's key, timers and getty masked."""
    stamp = ROOTFS / ".lure-rootfs"
    want = f"bookworm {ROOTFS_PKGS} v3"
    if stamp.exists() and stamp.read_text() == want and SSH_KEY.exists():
        return ROOTFS
    need("mmdebstrap", "systemd-nspawn", "ssh", "nc", "socat", "nsenter")
    BUILD.mkdir(parents=True, exist_ok=True)
    if not SSH_KEY.exists():
        SSH_KEY.parent.mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lure-deploy-test", "-f", str(SSH_KEY)])
    tmp = BUILD / "rootfs.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(ROOTFS, ignore_errors=True)
    run(["mmdebstrap", "--variant=minbase", f"--include={ROOTFS_PKGS}", "bookworm", str(tmp)], timeout=900)
    ssh = tmp / "root" / ".ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy(f"{SSH_KEY}.pub", ssh / "authorized_keys")
    os.chmod(ssh / "authorized_keys", 0o600)
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "dpkg-db-backup.timer",
                 "fstrim.timer", "logrotate.timer", "console-getty.service", "getty@.service"):
        link = tmp / "etc" / "systemd" / "system" / unit
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("/dev/null")
    # the container's name from --hostname (an /etc/hostname would win over it at boot)
    (tmp / "etc" / "hostname").unlink(missing_ok=True)
    (tmp / ".lure-rootfs").write_text(want)
    tmp.rename(ROOTFS)
    return ROOTFS


class Host:
    """One booted container. name = hostname = inventory name."""

    def __init__(self, name, workdir):
        self.name = name
        self.dir = Path(workdir)
        self.proc = None
        self.leader = None
        self.bridges = []

    def boot(self):
        self.log = open(self.dir / f"{self.name}.console", "wb")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", str(ROOTFS), "--volatile=overlay", "--boot", "--private-network",
             "--register=no", "--keep-unit", f"--machine={self.name}", f"--hostname={self.name}",
             "--console=passive"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def _find_leader(self):
        if self.proc.poll() is not None:
            pytest.fail(f"container {self.name} exited rc={self.proc.returncode}:\n{self.console()[-3000:]}")
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return None
        for k in kids:
            try:
                if Path(f"/proc/{k}/comm").read_text().strip() == "systemd":
                    return int(k)
            except OSError:
                pass
        return None

    def wait_ready(self, timeout=60):
        self.leader = wait_until(self._find_leader, timeout, f"container {self.name}'s init")
        wait_until(lambda: subprocess.run(["nsenter", "-t", str(self.leader), "-n", "nc", "-z", "127.0.0.1", "22"],
                                          capture_output=True).returncode == 0,
                   timeout, f"sshd in {self.name}")
        return self

    def console(self):
        try:
            return (self.dir / f"{self.name}.console").read_text(errors="replace")
        except OSError:
            return ""

    def sh(self, cmd, check=True, timeout=60):
        """A shell command inside the container (all its namespaces), as root."""
        return run(["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "--", "sh", "-c", cmd],
                   check=check, timeout=timeout)

    def main_pid(self):
        return int(self.sh("systemctl show -p MainPID --value lure").stdout.strip() or 0)

    def bridge(self, port, sock):
        """127.0.0.1:port inside the container -> the unix socket sock (on the host's file system)."""
        p = subprocess.Popen(["nsenter", "-t", str(self.leader), "-n", "socat",
                              f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"UNIX-CONNECT:{sock}"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        self.bridges.append(p)
        wait_until(lambda: subprocess.run(["nsenter", "-t", str(self.leader), "-n", "sh", "-c",
                                           f"ss -Htln 'sport = :{port}' | grep -q ."],
                                          capture_output=True).returncode == 0, 10, f"bridge :{port} in {self.name}")

    def inventory_line(self):
        proxy = f"nsenter -t {self.leader} -n nc 127.0.0.1 22"
        return (f"{self.name} ansible_host={self.name} ansible_port=22 "
                f"ansible_ssh_common_args='-o ProxyCommand=\"{proxy}\" -o StrictHostKeyChecking=no "
                f"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'")

    def close(self):
        for p in self.bridges:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn: orderly poweroff of the container
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()


class Fleet:
    def __init__(self, hosts, workdir, node):
        self.hosts = {h.name: h for h in hosts}
        self.dir = Path(workdir)
        self.node = node
        self.inventory = self.dir / "inventory.ini"
        lines = ["[sensors]"] + [h.inventory_line() for h in hosts] + [
            "", "[sensors:vars]", "ansible_user=root", f"ansible_ssh_private_key_file={SSH_KEY}"]
        self.inventory.write_text("\n".join(lines) + "\n")

    def playbook(self, name, *extra, check=True, timeout=300):
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False",
                   ANSIBLE_LOCAL_TEMP=str(self.dir / "ansible-tmp"), ANSIBLE_PYTHON_INTERPRETER="auto_silent")
        cmd = ["ansible-playbook", "-i", str(self.inventory), str(ANSIBLE_DIR / name)] + list(extra)
        r = subprocess.run(cmd, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=timeout)
        (self.dir / f"ansible-{name}-{int(time.time() * 1000)}.log").write_text(r.stdout + r.stderr)
        if check and r.returncode != 0:
            journals = "".join(f"\n--- {h.name}: journalctl -u lure\n" +
                               h.sh("journalctl -u lure --no-pager -n 40", check=False).stdout
                               for h in self.hosts.values())
            pytest.fail(f"ansible-playbook {name} {' '.join(extra)}: rc={r.returncode}\n{r.stdout[-6000:]}\n"
                        f"{r.stderr[-2000:]}{journals[-6000:]}")
        return r


def recap(out):
    """{host: {"ok": n, "changed": n, ...}} from ansible-playbook's PLAY RECAP."""
    res = {}
    lines = out.split("PLAY RECAP", 1)[1].splitlines()[1:]
    for line in lines:
        if ":" not in line:
            continue
        host, rest = line.split(":", 1)
        res[host.strip()] = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}
    return res


@pytest.fixture(scope="session")
def node():
    n = ship.start_node()
    st, r = n.request("PUT", "/_index_template/lure", TEMPLATE)
    assert st == 200, f"template: {st} {r}"
    yield n
    n.close()


@pytest.fixture(scope="session")
def es_sock(node, tmp_path_factory):
    """A unix socket on the host forwarding to the node (the far end of every container's bridge)."""
    need("socat")
    sock = tmp_path_factory.mktemp("esbridge") / "es.sock"
    port = node.url.rsplit(":", 1)[1].rstrip("/")
    p = subprocess.Popen(["socat", f"UNIX-LISTEN:{sock},fork,unlink-early", f"TCP:127.0.0.1:{port}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    wait_until(sock.exists, 10, "the host end of the OpenSearch bridge")
    yield sock
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()


def boot_hosts(names, workdir, es_sock=None):
    rootfs()
    hosts = [Host(n, workdir) for n in names]
    try:
        for h in hosts:
            h.boot()
        for h in hosts:
            h.wait_ready()
            if es_sock:
                h.bridge(9200, es_sock)
    except BaseException:
        for h in hosts:
            h.close()
        raise
    return hosts


@pytest.fixture(scope="module")
def fleet(node, es_sock, tmp_path_factory):
    """Two booted sensor hosts, sensor01 and sensor02 (no lure on them yet), and an inventory."""
    need("ansible-playbook")
    d = tmp_path_factory.mktemp("fleet")
    hosts = boot_hosts(["sensor01", "sensor02"], d, es_sock)
    f = Fleet(hosts, d, node)
    yield f
    for h in hosts:
        h.close()
