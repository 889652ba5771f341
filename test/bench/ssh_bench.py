"""SSH CPU per handshake, side by side: lure (its linux persona) against
Cowrie, OpenCanary, Debian's dropbear and Debian's sshd, each on loopback.

One handshake: TCP connect, version exchange, KEXINIT, the key exchange
fixed per run (curve25519-sha256, sntrup761x25519-sha512), the host-key
signature (ssh-ed25519; rsa-sha2-512 for OpenCanary, which has no other
key), NEWKEYS, the ssh-userauth service, and the first authentication
failure: OpenSSH's client sends "none" and gets USERAUTH_FAILURE, then
gives up (no method in common: PreferredAuthentications=hostbased); with
--auth password it sends one wrong password through sshpass first and the
daemons' failure delays make a run slower. The client is Debian's `ssh`
for every daemon.

CPU is the daemon's own run time (the sum over its threads of
/proc/<pid>/task/*/schedstat, in ns: utime+stime of /proc/<pid>/stat count
10 ms ticks, too coarse for a fraction of a millisecond) plus cutime+cstime
from /proc/<pid>/stat for the children it reaped (sshd and dropbear fork
per connection), read before and after a batch of N handshakes and
divided by the handshakes that reached their failure (the others, resets
or refusals, are counted in the fails column; dropbear gets at most 4
clients at a time, as it resets a sixth unauthenticated connection).
Rounds interleave the daemons (the order rotates each round); the table
gives the median of the rounds in ms per handshake and the ratio to Cowrie
with the same key exchange (Cowrie, OpenCanary and Debian 12's dropbear
have no sntrup761x25519: that row is against Cowrie's curve25519-sha256).
A daemon that is not installed or refuses the key exchange is left out,
with the reason.

Loopback only. Not pass/fail (exit 1 only when lure's handshakes fail).
Usage: ssh_bench.py --lure [NAME=]BIN [--lure NAME=BIN ...]
       [--cowrie-venv DIR] [--opencanary-venv DIR] [--rounds 5] [-n 30]
       [--conc 4] [--kex K,K] [--auth none|password] [--only lure,sshd]"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# below the kernel's ephemeral range (32768-60999), where clients' own
# ports would collide
BASE_PORT = 26000
KEXES = ["curve25519-sha256", "sntrup761x25519-sha512"]
TICK = os.sysconf("SC_CLK_TCK")


def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_port(start):
    port = start
    while not free(port):
        port += 1
    return port


def wait_port(port, proc, secs=60):
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def cpu_seconds(pid):
    """CPU seconds of pid: its threads' run time from schedstat (ns), plus
    cutime+cstime (clock ticks) of the children it reaped."""
    own = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                own += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): cutime and cstime are fields 16, 17
    return own / 1e9 + (int(fields[13]) + int(fields[14])) / TICK


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


class Daemon:
    name = ""
    hostkey = "ssh-ed25519"
    max_conc = 64

    def __init__(self, tmp, port):
        self.tmp, self.port, self.proc = tmp, port, None
        self.why = None  # why it is left out

    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Lure(Daemon):
    name = "lure"

    def __init__(self, tmp, port, binary, i):
        super().__init__(tmp, port)
        d = os.path.join(tmp, f"lure{i}")
        os.makedirs(d)
        # the linux persona's SSH port is 22: port_offset puts it on port
        cfg = {"sensor_id": "bench", "listen": ["127.0.0.1"],
               "port_offset": port - 22, "run_as_root": True,
               "state_file": f"{d}/state",
               "output": {"file": f"{d}/events.ndjson"},
               "limits": {"max_conns": 1024, "per_ip": 65536,
                          "idle_timeout": 600, "session_timeout": 3600}}
        with open(f"{d}/lure.json", "w") as f:
            json.dump(cfg, f)
        self.proc = subprocess.Popen([binary, "-c", f"{d}/lure.json"],
                                     stdout=subprocess.DEVNULL)
        # the first start makes the host keys (RSA 3072: seconds)
        if not wait_port(port, self.proc, 120):
            self.why = "did not start"


def as_nobody(argv):
    return ["setpriv", "--reuid=nobody", "--regid=nogroup",
            "--clear-groups"] + argv


class Cowrie(Daemon):
    name = "cowrie"

    def __init__(self, tmp, port, venv):
        super().__init__(tmp, port)
        venv = os.path.abspath(venv) if venv else ""
        twistd = os.path.join(venv, "bin", "twistd")
        if not venv or not os.access(twistd, os.X_OK):
            self.why = "not installed (--cowrie-venv)"
            return
        d = os.path.join(tmp, "cowrie")
        for sub in ("etc", "var/lib/cowrie", "var/log/cowrie", "var/run"):
            os.makedirs(os.path.join(d, sub))
        with open(f"{d}/etc/cowrie.cfg", "w") as f:
            f.write(f"""[honeypot]
state_path = {d}/var/lib/cowrie
log_path = {d}/var/log/cowrie
[ssh]
listen_endpoints = tcp:{port}:interface=127.0.0.1
[telnet]
enabled = false
""")
        # a password that fails for --auth password (the default userdb
        # lets most logins in)
        with open(f"{d}/etc/userdb.txt", "w") as f:
            f.write("root:x:123456\n")
        subprocess.run(["chown", "-R", "nobody:nogroup", d], check=True)
        # Cowrie refuses root: as nobody, in the foreground, JSON log on
        self.proc = subprocess.Popen(
            as_nobody(["env", f"HOME={d}", twistd, "-n", "--umask=0022",
                       "--pidfile=", "cowrie"]),
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(port, self.proc, 120):
            self.why = "did not start"


class OpenCanary(Daemon):
    name = "opencanary"
    hostkey = "rsa-sha2-512"

    def __init__(self, tmp, port, venv):
        super().__init__(tmp, port)
        venv = os.path.abspath(venv) if venv else ""
        twistd = os.path.join(venv, "bin", "twistd")
        tac = os.path.join(venv, "bin", "opencanary.tac")
        if not venv or not os.path.exists(tac):
            self.why = "not installed (--opencanary-venv)"
            return
        d = os.path.join(tmp, "opencanary")
        os.makedirs(d)
        cfg = {"device.node_id": "bench", "device.listen_addr": "127.0.0.1",
               "ssh.enabled": True, "ssh.port": port,
               "ssh.version": "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10",
               "ftp.enabled": False, "http.enabled": False,
               "logger": {"class": "PyLogger", "kwargs": {
                   "formatters": {"plain": {"format": "%(message)s"}},
                   "handlers": {"file": {
                       "class": "logging.FileHandler",
                       "filename": f"{d}/opencanary.log"}}}}}
        with open(f"{d}/opencanary.conf", "w") as f:
            json.dump(cfg, f)
        subprocess.run(["chown", "-R", "nobody:nogroup", d], check=True)
        self.proc = subprocess.Popen(
            as_nobody(["env", f"HOME={d}", twistd, "-noy", tac,
                       "--pidfile="]),
            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(port, self.proc, 120):
            self.why = "did not start"


class Dropbear(Daemon):
    name = "dropbear"
    # it resets a sixth unauthenticated connection from one address
    # (MAX_UNAUTH_PER_IP 5)
    max_conc = 4

    def __init__(self, tmp, port):
        super().__init__(tmp, port)
        if not shutil.which("dropbear") or not shutil.which("dropbearkey"):
            self.why = "not installed (apt-get install dropbear-bin)"
            return
        d = os.path.join(tmp, "dropbear")
        os.makedirs(d)
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f",
                        f"{d}/ed25519"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # -F foreground, -E log to stderr, -R no other keys; forks per
        # connection and reaps the child: cutime/cstime count it
        self.proc = subprocess.Popen(
            ["dropbear", "-F", "-E", "-p", f"127.0.0.1:{port}",
             "-r", f"{d}/ed25519", "-P", f"{d}/pid"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_port(port, self.proc):
            self.why = "did not start"


class Sshd(Daemon):
    name = "sshd"

    def __init__(self, tmp, port):
        super().__init__(tmp, port)
        if not os.access("/usr/sbin/sshd", os.X_OK) or os.geteuid() != 0:
            self.why = "needs root and openssh-server"
            return
        d = os.path.join(tmp, "sshd")
        os.makedirs(d)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        f"{d}/ssh_host_ed25519_key"], check=True)
        os.makedirs("/run/sshd", exist_ok=True)
        # Debian 12's stock settings (PAM on) with only an Ed25519 key
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d}/ssh_host_ed25519_key
PidFile {d}/sshd.pid
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
MaxStartups 100:30:200
""")
        self.proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-f", f"{d}/sshd_config",
             "-E", f"{d}/log"])
        if not wait_port(port, self.proc):
            self.why = "did not start"


def client_argv(port, kex, hostkey, auth):
    common = ["-o", f"KexAlgorithms={kex}",
              "-o", f"HostKeyAlgorithms={hostkey}",
              "-o", "StrictHostKeyChecking=no",
              "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
              "-o", "ConnectTimeout=60", "-o", "ControlMaster=no",
              "-o", "ControlPath=none", "-F", "/dev/null",
              "-p", str(port), "bench@127.0.0.1", "true"]
    if auth == "password":
        return (["sshpass", "-p", "wrong-password", "ssh",
                 "-o", "PreferredAuthentications=password",
                 "-o", "NumberOfPasswordPrompts=1"] + common)
    return (["ssh", "-o", "BatchMode=yes",
             "-o", "PreferredAuthentications=hostbased"] + common)


def handshakes(d, kex, n, conc, auth):
    """n handshakes to the first authentication failure, conc at a time:
    (CPU seconds, failures)."""
    argv = client_argv(d.port, kex, d.hostkey, auth)
    left = [n]
    bad = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            if "Permission denied" not in r.stderr:
                with lock:
                    bad[0] += 1
                    if bad[0] == 1:
                        print(f"  {d.name} {kex}: {r.stderr.strip()}",
                              file=sys.stderr)

    t0 = cpu_seconds(d.pid())
    ts = [threading.Thread(target=worker)
          for _ in range(min(conc, d.max_conc))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    # forking daemons: wait until every child is reaped (counted)
    end = time.time() + 10
    while time.time() < end and d.name in ("sshd", "dropbear") and \
            children(d.pid()):
        time.sleep(0.05)
    time.sleep(0.2)
    return cpu_seconds(d.pid()) - t0, bad[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lure", required=True, action="append",
                    help="BIN, or NAME=BIN (repeat to compare builds)")
    ap.add_argument("--cowrie-venv")
    ap.add_argument("--opencanary-venv")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--kex", default=",".join(KEXES))
    ap.add_argument("--auth", choices=("none", "password"), default="none")
    ap.add_argument("--only", default="lure,cowrie,opencanary,dropbear,sshd")
    a = ap.parse_args()
    kexes = a.kex.split(",")
    only = a.only.split(",")
    tmp = tempfile.mkdtemp(prefix="lure-sshbench-")
    os.chmod(tmp, 0o755)
    makers = {
        "cowrie": lambda p: Cowrie(tmp, p, a.cowrie_venv),
        "opencanary": lambda p: OpenCanary(tmp, p, a.opencanary_venv),
        "dropbear": lambda p: Dropbear(tmp, p),
        "sshd": lambda p: Sshd(tmp, p),
    }
    daemons = []
    try:
        port = BASE_PORT
        for i, spec in enumerate(a.lure if "lure" in only else []):
            name, _, binary = spec.rpartition("=")
            d = Lure(tmp, pick_port(port), os.path.abspath(binary), i)
            d.name = name or "lure"
            daemons.append(d)
            port += 100
        for name in only:
            if name != "lure":
                daemons.append(makers[name](pick_port(port)))
                port += 100
        live = [d for d in daemons if not d.why]
        for d in daemons:
            if d.why:
                print(f"{d.name}: left out: {d.why}")
        # one warm-up handshake each (keys, imports, caches); a daemon
        # that refuses a key exchange drops it
        runs = []
        for d in live:
            for k in kexes:
                _, bad = handshakes(d, k, 1, 1, a.auth)
                if bad:
                    print(f"{d.name}: {k} left out: the handshake failed")
                else:
                    runs.append((d, k))
        if not runs:
            return 1
        samples = {(d.name, k): [] for d, k in runs}
        fails = {(d.name, k): 0 for d, k in runs}
        t0 = time.time()
        for r in range(a.rounds):
            order = runs[r % len(runs):] + runs[:r % len(runs)]
            for d, k in order:
                secs, bad = handshakes(d, k, a.n, a.conc, a.auth)
                if bad < a.n:  # per handshake that got its failure
                    samples[(d.name, k)].append(secs / (a.n - bad) * 1e3)
                fails[(d.name, k)] += bad
            print(f"round {r + 1}/{a.rounds} done "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr)
        report(a, runs, samples, fails)
        lures = [(d, k) for d, k in runs if isinstance(d, Lure)]
        return 1 if not lures or any(fails[(d.name, k)] for d, k in lures) \
            else 0
    finally:
        for d in daemons:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(a, runs, samples, fails):
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"\nSSH CPU per handshake to the first auth failure "
          f"({time.strftime('%Y-%m-%d')}; auth {a.auth}; {a.rounds} rounds "
          f"x {a.n} handshakes, {a.conc} clients at a time; "
          f"{os.cpu_count()} CPUs, load {' '.join(load)})")
    med = {key: statistics.median(v) for key, v in samples.items() if v}
    print(f"{'kex':<24} {'daemon':<11} {'hostkey':<13} {'ms median':>9} "
          f"{'min':>6} {'max':>6} {'x Cowrie':>9}  fails")
    for k in dict.fromkeys(k for _, k in runs):
        base = med.get(("cowrie", k)) or med.get(
            ("cowrie", "curve25519-sha256"))
        for d, kk in runs:
            if kk != k or (d.name, k) not in med:
                continue
            v = samples[(d.name, k)]
            ratio = f"{med[(d.name, k)] / base:.2f}x" if base else "-"
            print(f"{k:<24} {d.name:<11} {d.hostkey:<13} "
                  f"{med[(d.name, k)]:>9.3f} {min(v):>6.2f} {max(v):>6.2f} "
                  f"{ratio:>9}  {fails[(d.name, k)]}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
