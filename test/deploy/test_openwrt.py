"""platform/openwrt and `make ipk`: the .ipk unpacked and checked member by member (layout, control
fields, modes, owners, reproducibility, the packaged binary for its architecture), and lure-uci (the UCI
-> JSON mapper the procd init and the qemu images run) under BusyBox's sh and awk, as on a router, and
under Debian's sh/awk: every option type, UCI's quoting, and every error path (exit 2, file:line).
`lure -t` runs on the router's own paths in a root laid out as the router (chroot): the packaged init's
start_service (a procd stub) makes the directories, maps and checks the config, and hands procd the
command that test_init_first_start_on_a_router then runs."""
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import NOBODY, REPO, in_root, make_ca, make_env, make_root, need, run, wait_until

FILES = REPO / "platform" / "openwrt" / "files"
VERSION = (REPO / "VERSION").read_text().strip()
ARCH = {"x86_64": ("x86_64", 62, "<"), "mipsel": ("mipsel_24kc", 8, "<"),
        "armhf": ("arm_cortex-a7_neon-vfpv4", 40, "<")}
QEMU_USER = {"mipsel": "qemu-mipsel-static", "armhf": "qemu-arm-static"}


def make_ipk(target):
    r = run(["make", "--no-print-directory", "-C", str(REPO), f"TARGET={target}", "ipk", "-j2"], timeout=1200,
            env=make_env())
    return Path(r.stdout.strip().splitlines()[-1])


def members(tgz_bytes):
    with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as t:
        return {m.name: (m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()}


def program_header_types(elf, endian):
    """The p_type of every program header of an ELF file (the persona's shell
    data holds loader names as text, so strings prove nothing)."""
    wide = elf[4] == 2
    if wide:
        phoff, = struct.unpack(endian + "Q", elf[32:40])
        phentsize, phnum = struct.unpack(endian + "HH", elf[54:58])
    else:
        phoff, = struct.unpack(endian + "I", elf[28:32])
        phentsize, phnum = struct.unpack(endian + "HH", elf[42:46])
    return {struct.unpack(endian + "I", elf[phoff + i * phentsize:][:4])[0]
            for i in range(phnum)}


@pytest.mark.parametrize("target", ["x86_64", "mipsel", "armhf"])
def test_ipk(target, tmp_path):
    ipk = make_ipk(target)
    arch, machine, endian = ARCH[target]
    assert ipk.name == f"lure_{VERSION}-1_{arch}.ipk"
    with tarfile.open(ipk, "r:gz") as t:
        assert t.getnames() == ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
        outer = {m.name: t.extractfile(m).read() for m in t.getmembers()}
    assert outer["./debian-binary"] == b"2.0\n"

    control = members(outer["./control.tar.gz"])
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", control["./control"][1].decode(), re.M))
    assert fields["Package"] == "lure"
    assert fields["Version"] == f"{VERSION}-1"
    assert fields["Architecture"] == arch
    assert "Depends" not in fields  # static: not even libc
    assert control["./conffiles"][1] == b"/etc/config/lure\n/etc/logrotate.d/lure\n"
    for script in ("./postinst", "./prerm"):
        m, body = control[script]
        assert m.mode == 0o755 and body.startswith(b"#!/bin/sh\n")
        assert body == (FILES / script[2:]).read_bytes()
        # installing into an image root (IPKG_INSTROOT set) touches nothing
        r = subprocess.run(["sh", "-c", body.decode()], env=dict(os.environ, IPKG_INSTROOT=str(tmp_path)),
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == r.stderr == ""

    data = members(outer["./data.tar.gz"])
    want = {"./usr/sbin/lure": (0o755, REPO / "build" / f"{target}-generic" / "lure"),
            "./usr/libexec/lure-uci": (0o755, FILES / "lure-uci"),
            "./etc/init.d/lure": (0o755, FILES / "lure.init"),
            "./etc/config/lure": (0o600, FILES / "lure.config"),
            "./etc/logrotate.d/lure": (0o644, FILES / "lure.logrotate"),
            "./usr/share/lure/lure-catchall.nft": (0o644, FILES / "lure-catchall.nft")}
    for name, (mode, src) in want.items():
        m, body = data[name]
        assert m.mode == mode, f"{name}: mode {oct(m.mode)}"
        assert body == src.read_bytes(), f"{name} differs from {src}"
    for m, _ in data.values():
        assert (m.uid, m.gid, m.mtime) == (0, 0, 0), m.name
    assert int(fields["Installed-Size"]) >= sum(len(b) for _, b in data.values() if b)

    # the binary is a static ELF for the router's CPU
    elf = data["./usr/sbin/lure"][1]
    assert elf[:4] == b"\x7fELF" and elf[5] == (1 if endian == "<" else 2)
    assert struct.unpack(endian + "H", elf[18:20])[0] == machine
    assert not program_header_types(elf, endian) & {3, 2}, "PT_INTERP or PT_DYNAMIC: not static"
    exe = tmp_path / "lure"
    exe.write_bytes(elf)
    exe.chmod(0o755)
    cmd = [str(exe), "-V"] if target == "x86_64" else [QEMU_USER[target], str(exe), "-V"]
    if target != "x86_64":
        need(QEMU_USER[target])
    out = run(cmd).stdout
    assert out.startswith(f"lure {VERSION}"), out

    # the packaged init, on the packaged files laid out as the router's root: lure-uci maps the packaged
    # config and the packaged binary accepts it (lure -t, dropping to nobody), then procd is asked to run it
    root = router_root(tmp_path / "router", data, target)
    r = init_start(root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads((root / "var/etc/lure.json").read_text())["sensor_id"] == "router7"

    # byte-reproducible: the same inputs twice (a private copy of the binary) give the same bytes
    digests = set()
    for n in (1, 2):
        out = tmp_path / f"repro{n}"
        out.mkdir()
        r = run(["sh", str(REPO / "fw-images" / "mkipk.sh"), target, str(exe), str(out), VERSION])
        digests.add(hashlib.sha256(Path(r.stdout.strip()).read_bytes()).hexdigest())
    assert len(digests) == 1
    assert digests == {hashlib.sha256(ipk.read_bytes()).hexdigest()}


# --- the packaged init script, as procd runs it ----------------------------------------------------

# /etc/rc.common and procd's functions, reduced to what lure.init calls: procd's parameters are written
# to /tmp/procd (one line each) for the test to read and run
PROCD_STUB = r"""
config_load() { :; }
config_get_bool() { eval "$1=1"; }
config_get() { eval "$1=\${4:-}"; }
procd_open_instance() { : >/tmp/procd; }
procd_set_param() { echo "$*" >>/tmp/procd; }
procd_close_instance() { :; }
procd_add_reload_trigger() { :; }
logger() { echo "logger: $*" >&2; }
"""
BUSYBOX = REPO / "build" / "deps" / "busybox-static" / "bin" / "busybox"


def router_root(path, data, target, config=None):
    """The .ipk's data members (data: members() of data.tar.gz) installed in a fresh root, with BusyBox
    (static) as /bin/sh and its applets, the router's host name in /proc/sys/kernel/hostname, and
    nothing else: no /tmp/lure, no /etc/lure, no /var/etc. config: another /etc/config/lure. A foreign
    target's binary runs through its qemu-user (copied in; /usr/sbin/lure calls it)."""
    if not BUSYBOX.exists():
        run(["sh", str(REPO / "tools" / "deps.sh"), "test"], timeout=900)
    files = {"/" + n[2:]: (b, m.mode) for n, (m, b) in data.items() if b is not None}
    if config is not None:
        files["/etc/config/lure"] = (config.encode(), 0o600)
    files["/bin/busybox"] = (BUSYBOX.read_bytes(), 0o755)
    files["/lib/procd-stub.sh"] = (PROCD_STUB.encode(), 0o644)
    files["/proc/sys/kernel/hostname"] = (b"router7\n", 0o644)
    if target != "x86_64":
        need(QEMU_USER[target])
        files["/usr/sbin/lure.elf"] = files["/usr/sbin/lure"]
        files[f"/usr/bin/{QEMU_USER[target]}"] = (Path(shutil.which(QEMU_USER[target])).read_bytes(), 0o755)
        files["/usr/sbin/lure"] = (f'#!/bin/sh\nexec /usr/bin/{QEMU_USER[target]} /usr/sbin/lure.elf "$@"\n'
                                   .encode(), 0o755)
    root = make_root(path, files=files)
    for applet in ("sh", "awk", "cat", "chown", "mkdir", "mv", "rm", "env"):
        (root / "bin" / applet).symlink_to("busybox")
    return root


def init_start(root):
    """/etc/init.d/lure's start_service in the router root, as root; then the procd parameters are
    in root/tmp/procd."""
    return in_root(root, ["/bin/sh", "-c", ". /lib/procd-stub.sh && . /etc/init.d/lure && start_service"])


def procd_params(root):
    return dict(line.split(" ", 1) for line in (root / "tmp/procd").read_text().splitlines())


def test_init_first_start_on_a_router(tmp_path):
    """The first start after `opkg install` with shipping on: lure.init makes /tmp/lure (RAM) for the
    dropped user, checks the config with `lure -t` (the output file's directory as nobody, the default
    spool /tmp/lure/spool, the CA file), and the command and environment it hands procd run lure:
    it drops to nobody, writes its identity and spool, and after the packaged logrotate recipe (rename,
    HUP) creates a new events file as nobody."""
    ipk = make_ipk("x86_64")
    with tarfile.open(ipk, "r:gz") as t:
        data = members(t.extractfile("./data.tar.gz").read())
    uci_text = (FILES / "lure.config").read_text()
    assert "option enabled '0'" in uci_text.split("config elasticsearch", 1)[1]
    uci_text = uci_text.replace("option enabled '0'", "option enabled '1'")
    root = router_root(tmp_path / "router", data, "x86_64", config=uci_text)
    r = init_start(root)
    assert r.returncode != 0, r.stdout + r.stderr  # no CA file yet: refused
    assert "ca_file" in r.stderr or "ca.pem" in r.stderr, r.stderr
    assert not (root / "tmp/procd").exists() and not (root / "var/etc/lure.json").exists()

    (root / "etc/lure/ca.pem").write_bytes(make_ca())
    r = init_start(root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (root / "tmp/lure").stat().st_uid == NOBODY
    params = procd_params(root)
    cmd = params["command"].split()
    assert cmd == ["/usr/sbin/lure", "-c", "/var/etc/lure.json"], params
    env = dict(kv.split("=", 1) for kv in params["env"].split())
    assert env == {"STATE_DIRECTORY": "/tmp/lure"}, params
    cfg = json.loads((root / "var/etc/lure.json").read_text())
    assert cfg["elasticsearch"]["url"].startswith("https://") and "path" not in cfg["elasticsearch"]["spool"]

    # procd's instance: its command and environment, in a network namespace of its own
    p = subprocess.Popen(["unshare", "-n", "env", "-i"] + [f"{k}={v}" for k, v in env.items()] +
                         [shutil.which("chroot"), str(root)] + cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    try:
        events = root / "tmp/lure/events.ndjson"

        def started():
            if p.poll() is not None:
                pytest.fail(f"lure exited rc={p.returncode}: {p.stderr.read()}")
            return events.exists() and events.stat().st_size > 0
        wait_until(started, 10, "lure's start event in /tmp/lure/events.ndjson")
        status = Path(f"/proc/{p.pid}/status").read_text()
        assert re.search(rf"^Uid:\s+{NOBODY}\s", status, re.M), status
        assert (root / "etc/lure/state").stat().st_size > 0
        assert (root / "tmp/lure/spool").exists()  # the default spool, in RAM
        # the packaged logrotate recipe, run by logrotate: its path into this root, and the process
        # it signals named by pid (pidof would find every lure on this machine)
        recipe = data["./etc/logrotate.d/lure"][1].decode()
        assert "/tmp/lure/events.ndjson {" in recipe and "$(pidof lure)" in recipe
        conf = tmp_path / "logrotate.conf"
        conf.write_text(recipe.replace("/tmp/lure/", f"{root}/tmp/lure/").replace("$(pidof lure)", str(p.pid)))
        need("logrotate")
        before = events.read_bytes()
        run(["logrotate", "-f", "-s", str(tmp_path / "logrotate.state"), str(conf)])
        assert (root / "tmp/lure/events.ndjson.1").read_bytes()[:len(before)] == before
        wait_until(lambda: events.exists(), 10, "lure's new events file after logrotate's HUP")
        assert events.stat().st_uid == NOBODY
        assert p.poll() is None
    finally:
        p.terminate()
        err = p.communicate(timeout=10)[1]
    assert p.returncode == 0, err


@pytest.fixture(scope="module", params=["busybox", "debian"])
def shell(request, tmp_path_factory):
    """PATH for lure-uci: BusyBox's sh and awk (as on OpenWrt), or Debian's dash and mawk/gawk."""
    if request.param == "debian":
        return os.environ["PATH"]
    need("busybox")
    d = tmp_path_factory.mktemp("bb")
    for applet in ("sh", "awk"):
        (d / applet).symlink_to(shutil.which("busybox"))
    return f"{d}:{os.environ['PATH']}"


def uci(shell_path, tmp_path, text, default_id=""):
    f = tmp_path / "lure.uci"
    f.write_text(text)
    return subprocess.run(["sh", str(FILES / "lure-uci"), str(f)] + ([default_id] if default_id else []),
                          env=dict(os.environ, PATH=shell_path), capture_output=True, text=True)


FULL = r"""
# every option type and UCI quoting form
config lure 'main'
	option enabled '1'
	option sensor_id 'rtr-'\''01'\'''
	option hostname "Camera \"7\""
	option observer_hostname bare\ word
	list listen '0.0.0.0'
	list listen "::"
	option port_offset '0'
	list port '80=8081'
	list port '23=0'
	list exclude '10.1.0.0/16'
	list exclude 'fd00::/8'	# a comment after a value
	option user 'nobody'
	option output '/tmp/lure/e.ndjson'
	option state_file '/etc/lure/state'
	option run_as_root 'no'
	option heartbeat '60'
	option max_conns '100'
	option per_ip '5'
	option idle_timeout '30'
	option session_timeout '300'
	option max_input '65536'
	option in_buf '2048'
	option out_buf '2048'
	option outbox_bytes '131072'
	option ipv6_prefix '56'
	option request_timeout '20'
	option refused_window '30'
	option tls_handshake_timeout '15'
	option api_key ''

config elasticsearch 'es'
	option enabled 'on'
	option url 'https://es.example:9200'
	option index 'lure-%Y.%m.%d'
	option data_stream '0'
	option user 'w'
	option password 'p\tq'
	option ca_file '/etc/lure/ca.pem'
	option insecure 'false'
	option batch_events '100'
	option batch_bytes '65536'
	option flush_ms '500'
	option retry_max_ms '10000'
	option timeout_ms '15000'
	option dead_letter '/tmp/lure/dead.ndjson'
	option resolver '127.0.0.1:53'
	option spool_path '/tmp/lure/spool'
	option spool_max_bytes '1048576'
"""


def test_uci_full_mapping(shell, tmp_path):
    r = uci(shell, tmp_path, FULL.replace("option api_key ''\n", ""))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {
        "sensor_id": "rtr-'01'", "hostname": 'Camera "7"', "observer_hostname": "bare word",
        "listen": ["0.0.0.0", "::"], "port_offset": 0, "ports": {"80": 8081, "23": 0},
        "exclude": ["10.1.0.0/16", "fd00::/8"], "user": "nobody", "output": {"file": "/tmp/lure/e.ndjson"},
        "state_file": "/etc/lure/state", "run_as_root": False, "heartbeat": 60,
        "limits": {"max_conns": 100, "per_ip": 5, "idle_timeout": 30, "session_timeout": 300,
                   "max_input": 65536, "in_buf": 2048, "out_buf": 2048, "outbox_bytes": 131072,
                   "ipv6_prefix": 56, "request_timeout": 20, "refused_window": 30},
        "tls": {"handshake_timeout": 15},
        "elasticsearch": {"url": "https://es.example:9200", "index": "lure-%Y.%m.%d", "data_stream": False,
                          "user": "w", "password": "p\\tq", "ca_file": "/etc/lure/ca.pem", "insecure": False,
                          "batch_events": 100, "batch_bytes": 65536, "flush_ms": 500, "retry_max_ms": 10000,
                          "timeout_ms": 15000, "dead_letter": "/tmp/lure/dead.ndjson",
                          "resolver": "127.0.0.1:53",
                          "spool": {"path": "/tmp/lure/spool", "max_bytes": 1048576}},
    }
    # and lure takes it as it is, on a router's file system as lure.init leaves it (/tmp/lure for the
    # user lure drops to, the CA file installed)
    from conftest import deploy_bin
    root = make_root(tmp_path / "router", dirs={"/tmp/lure": (NOBODY, 0o755), "/etc/lure": (0, 0o755)},
                     files={"/usr/sbin/lure": (deploy_bin().read_bytes(), 0o755),
                            "/var/etc/lure.json": (r.stdout.encode(), 0o600),
                            "/etc/lure/ca.pem": (make_ca(), 0o644)})
    t = in_root(root, ["/usr/sbin/lure", "-t", "-c", "/var/etc/lure.json"])
    assert t.returncode == 0, t.stderr


def test_uci_defaults_and_disabled_es(shell, tmp_path):
    r = uci(shell, tmp_path, (FILES / "lure.config").read_text(), "myrouter")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["sensor_id"] == "myrouter"          # empty sensor_id: the router's host name
    assert "elasticsearch" not in got              # enabled '0'
    assert got["state_file"] == "/etc/lure/state" and got["user"] == "nobody"
    # an empty value is an unset option, whatever its type
    r = uci(shell, tmp_path, "config lure main\n\toption heartbeat ''\n\toption sensor_id ''\n")
    assert r.returncode == 0 and json.loads(r.stdout) == {}, r.stdout + r.stderr
    # the elasticsearch section without enabled is on
    r = uci(shell, tmp_path, "config elasticsearch es\n\toption url 'http://127.0.0.1:9200'\n")
    assert json.loads(r.stdout) == {"elasticsearch": {"url": "http://127.0.0.1:9200"}}


def test_uci_control_bytes_escaped(shell, tmp_path):
    r = uci(shell, tmp_path, "config lure main\n\toption hostname 'a\x01b\\c'\n")
    assert r.returncode == 0, r.stderr
    assert '"a\\u0001b\\\\c"' in r.stdout
    assert json.loads(r.stdout)["hostname"] == "a\x01b\\c"


@pytest.mark.parametrize("text, line, msg", [
    ("config lure main\n\toption bogus '1'\n", 2, 'unknown option "bogus" in section lure'),
    ("config lure main\n\toption heartbeat 'soon'\n", 2, 'option heartbeat: "soon" is not an integer'),
    ("config lure main\n\toption run_as_root 'maybe'\n", 2, "is not a boolean"),
    ("config lure main\n\tlist port '80:8080'\n", 2, "want PERSONA_PORT=PORT"),
    ("config lure main\n\tlist listn '::'\n", 2, 'unknown list "listn"'),
    ("config system main\n", 1, 'unknown section type "system"'),
    ("config lure main\nconfig lure other\n", 2, 'a second "lure" section'),
    ("\toption heartbeat '5'\n", 1, "before any config section"),
    ("config lure main\n\toption hostname 'open\n", 2, "unterminated quote"),
    ("config lure main\n\toption hostname 'a' 'b'\n", 2, "more than one value"),
    ("config lure main\n\toption hostname\n", 2, "without a value"),
    ("config lure main\n\toptions x 'y'\n", 2, "expected config, option or list"),
    ("config elasticsearch es\n\toption spool 'x'\n", 2, 'unknown option "spool" in section elasticsearch'),
])
def test_uci_errors(shell, tmp_path, text, line, msg):
    r = uci(shell, tmp_path, text)
    assert r.returncode == 2 and r.stdout == "", (r.stdout, r.stderr)
    assert f"lure-uci: {tmp_path / 'lure.uci'}:{line}: " in r.stderr and msg in r.stderr, r.stderr


def test_scripts_lint():
    need("shellcheck")
    scripts = [FILES / "lure-uci", FILES / "postinst", FILES / "prerm", REPO / "fw-images" / "mkipk.sh",
               REPO / "fw-images" / "mkimage.sh"]
    r = run(["shellcheck", "-s", "sh"] + [str(s) for s in scripts], check=False)
    assert r.returncode == 0, r.stdout
    r = run(["shellcheck", str(FILES / "lure.init")], check=False)  # its own directive: dash (ash-like)
    assert r.returncode == 0, r.stdout


def test_sdk_makefile_installs_what_exists():
    """The OpenWrt SDK Makefile cannot be built here (no SDK in Debian); what it names must exist."""
    mk = (REPO / "platform" / "openwrt" / "Makefile").read_text()
    for f in re.findall(r"\./files/([\w.-]+)", mk):
        assert (FILES / f).is_file(), f
    for f in re.findall(r"\$\(LURE_SRC\)/([\w.]+)", mk):
        assert (REPO / f).exists(), f
    assert "$(eval $(call BuildPackage,lure))" in mk
    # the scripts inlined in the package definition are the ones the ipk carries
    for name in ("postinst", "prerm"):
        body = re.search(rf"define Package/lure/{name}\n(.*?)endef", mk, re.S).group(1)
        assert body.replace("$$", "$") .splitlines()[-1] == "exit 0"
        for line in (FILES / name).read_text().splitlines():
            if line.startswith("\t/etc/init.d/"):
                assert line in body, line
