"""Differential shell probes (issue 14): the same command lines, of the
kinds bots, droppers and honeypot detectors type after a login, run by
lure's fake shell through an SSH exec request and by the real shell its
persona claims, on this machine, invoked as the daemon invokes it for an
exec request: `bash -c LINE` for `linux` (as Debian's sshd), BusyBox's
`ash -c LINE` for `openwrt` (as dropbear), argv[0] the shell's base name,
the environment the daemon sets, stderr a pipe of its own. (Through a real
sshd, bash would also read root's ~/.bashrc, which on a Debian box prints
nothing and on a developer's machine may.) stdout, stderr and the exit
status must be the same. The lines depend on the shell's language (words,
quotes, variables, arithmetic, tests, loops, conditionals, exit statuses,
error texts), not on the file system, whose files are the persona's by
design. One test per probe; a difference not fixed is an xfail with its
reason (KNOWN below), listed in the README. Score: passed / probes per
persona."""
import os
import subprocess
import time

import pytest

from conftest import Sensor, info

PERSONA = info().persona
if PERSONA not in ("linux", "openwrt"):
    pytest.skip(f"persona {PERSONA}: no exec-capable shell to compare",
                allow_module_level=True)

paramiko = pytest.importorskip("paramiko")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# root's PATH as each daemon sets it (Debian's sshd; dropbear as OpenWrt
# builds it), and the persona's login that accepts a shell
PATHS = {"linux": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         "openwrt": "/usr/sbin:/usr/bin:/sbin:/bin"}
LOGIN = {"linux": ("root", "123456"), "openwrt": ("root", "admin")}

PROBES = [
    # words, quotes, expansion
    "echo hello",
    "echo \"a  b\" 'c  d'",
    "echo 'a $HOME' \"$HOME\"",
    "echo a\\ b \\$x",
    "printf '%s-%s\\n' a b",
    "printf '%d\\n' 42",
    "echo $HOME $USER",
    "echo ${HOME}",
    "echo $0",
    "echo ~",
    "echo ~/x",
    "echo \"~\" '~'",
    "echo a~",
    "echo $(echo sub)",
    "echo `echo back`",
    "echo \"$(echo a  b)\"",
    # variables
    "x=5; echo $x",
    "x=5; echo ${x}",
    "x=hello; echo ${#x}",
    "export A=1; echo $A",
    "A=1 B=2; echo $A$B",
    "x=a; x=b; echo $x",
    "x=1; unset x; echo \"[$x]\"",
    "echo ${undefined:-def}",
    "y=; echo ${y:-def} ${y-alt}",
    "z=set; echo ${z:+plus}",
    "echo ${w:=assigned}; echo $w",
    "x=$(echo cmd); echo $x",
    "n=3; echo \"n is $n\"",
    "echo \"${q:-$HOME}\"",
    "x='a b'; echo $x",
    "x=1 echo ok",
    # arithmetic
    "echo $((1+2))",
    "echo $((7*6-2))",
    "echo $(( (1+2)*3 ))",
    "echo $((10/3)) $((10%3))",
    "echo $((1<2)) $((2==2)) $((3!=3))",
    "echo $((-5+2)) $((!0))",
    "x=4; echo $((x*2))",
    "x=4; echo $(($x+1))",
    "echo \"$((3*3))\"",
    "i=1; i=$((i+1)); echo $i",
    # statuses
    "true; echo $?",
    "false; echo $?",
    "false || echo or $?",
    "true && echo and",
    ": ; echo colon $?",
    "exit 3",
    "echo a; exit 0; echo b",
    "false || exit 4",
    # test and [
    "test 1 -eq 1 && echo eq",
    "test 2 -gt 1 && echo gt",
    "test a = a && echo same",
    "test a != b && echo differ",
    "test -z \"\" && echo empty",
    "test -n x && echo nonempty",
    "[ -d /tmp ] && echo tmp",
    "[ -f /etc/passwd ] && echo passwd",
    "[ -f /nonexistent ] || echo nofile",
    "[ -e /etc ] && echo exists",
    "[ ! -d /nonexistent ] && echo notdir",
    "[ abc ] && echo str",
    "[ ] || echo emptytest",
    "[ 1 -lt 2 ]; echo $?",
    "[ 3 -le 2 ]; echo $?",
    "[ -x /bin/sh ] && echo x",
    "[ -d /tmp ] && cd /tmp && pwd",
    # conditionals and loops
    "if true; then echo yes; fi",
    "if false; then echo yes; else echo no; fi",
    "if false; then echo a; elif true; then echo b; else echo c; fi",
    "if true; then if false; then echo x; else echo y; fi; fi",
    "if [ 1 -eq 1 ]; then echo eq; fi",
    "if false; then echo x; fi; echo $?",
    "for i in 1 2 3; do echo $i; done",
    "for f in a b; do echo \"f=$f\"; done; echo end",
    "for i in 1 2; do for j in a b; do echo $i$j; done; done",
    "for i in 1 2 3; do if [ $i = 2 ]; then echo two; fi; done",
    "for x in a b c; do :; done; echo $x",
    "while false; do echo x; done; echo done",
    "i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done",
    "until true; do echo x; done; echo u",
    "for a in x86 mips arm; do echo get $a; done",
    "while [ 1 ]; do echo once; break; done; echo after",
    "for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done",
    "for i in 1 2; do for j in a b; do [ $j = b ] && break; echo $i$j; done; done",
    "i=0; while true; do i=$((i+1)); [ $i -gt 2 ] && break; done; echo $i",
    "for a in 1 2; do if true; then break; fi; echo no; done; echo out $a",
    # as droppers write them
    "cd /tmp || cd /var/run || cd /mnt; pwd",
    "cd /nonexistent || cd /tmp; pwd",
    "x=1; [ $x -eq 1 ] && echo one || echo other",
    "[ \"$x\" = \"\" ] && echo unset",
    "[ -n \"$HOME\" ] && echo home",
    "test ! -f /nonexistent && echo ok",
    "if [ -d /tmp ]; then cd /tmp; fi; pwd",
    "a=1; b=2; echo $((a+b))",
    "echo $((0x10)) $((010))",
    "x=5; x=$((x-1)); echo $x",
    "! true; echo $?",
    "! false && echo negated",
    "echo a && false; echo $?",
    "false; exit",
    "echo \"$(whoami)\"",
    "cd; pwd",
    "printf '%s\\n' \"$HOME\"",
    "echo hi > /tmp/.lure-diff-shell; cat /tmp/.lure-diff-shell; rm -f /tmp/.lure-diff-shell",
    "ls /nonexistent; echo $?",
    "cat /nonexistent; echo $?",
    "for f in /tmp /nonexistent; do [ -d $f ] && echo dir $f; done",
    "v=\"x86 arm mips\"; for a in $v; do echo $a; done",
    "echo $undefined end",
    "echo \"$undefined\" end",
    # awk as the common SSH bots use it
    "echo 'model name : Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz' | awk '{print $4,$5,$6,$7,$8,$9;}'",
    "printf 'Mem: 1 2 3 4 5 6\\nSwap: 0 0 0\\n' | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'",
    "printf 'Filesystem Size\\n/dev/vda1 20G\\n' | awk 'FNR == 2 {print $2;}'",
    "printf 'a b c\\nd e\\n' | awk '{print NR, NF, $NF}'",
    "printf 'a:b:c\\n' | awk -F: '{print $2}'; printf 'x;y\\n' | awk -F ';' '{print $1 \"-\" $2}'",
    "printf 'one\\ntwo\\nthree\\n' | awk 'NR > 1 {print}'",
    "echo a b | awk '{print $5}'; echo $?",
    # errors
    "[ 1",
    "[ 1 -eq a ]; echo $?",
    "echo $((1/0)); echo next",
    "echo $((2+)); echo next",
    "case x in x) echo x;; esac",
    "echo {a,b}",
    "unknowncmd",
    "unknowncmd; echo $?",
    "cd /nonexistent",
    "cd /etc/passwd",
    "cat /nonexistent",
    "echo a | cat",
    "echo abc | wc -c",
    "cd /tmp; pwd",
    "cd /tmp && echo ok",
    # wc: a line per file with its name, "total", the columns' widths
    "printf 'one two\\nthree\\n' > /tmp/.lure-wc1; wc /tmp/.lure-wc1; "
    "wc -l /tmp/.lure-wc1; wc -w /tmp/.lure-wc1 /tmp/.lure-wc1; rm -f /tmp/.lure-wc1",
    "echo a b c | wc; echo a b c | wc -c; echo a | wc -lc",
    "wc /tmp/.lure-nosuch; echo $?",
    # case: patterns (globs, alternatives), no match, nesting, in loops
    "case $(echo armv7l) in x86_64) echo amd64;; arm*|aarch64) echo arm;; *) echo other;; esac",
    "case abc in a?c) echo q;; esac; echo st=$?",
    "case zzz in a) echo a;; b) echo b;; esac; echo st=$?",
    "case foo in f[aeiou]o) echo vowel;; *) echo no;; esac",
    "case foo in f[!o]o) echo a;; *) echo b;; esac",
    "x=mips; case \"$x\" in mips|mipsel) echo M; echo M2;; esac",
    "for a in 1 2 3; do case $a in 2) echo two;; *) echo n$a;; esac; done",
    "case a in (a) echo paren;; esac",
    "case a in a) echo nosemi; esac",
    "case b in a) echo A;; b) case c in c) echo inner;; esac; echo after;; esac",
    "case a in *) echo star;; a) echo a;; esac",
    "if true; then case a in a) echo in-if;; esac; fi",
    "while true; do case x in x) echo once; break;; esac; done",
    "case 5 in [0-9]) echo digit;; esac; case - in [a-c]) echo r;; *) echo n;; esac",
    "case x in x) ;; esac; echo empty-branch $?",
    "case a in a) false;; esac; echo $?",
    "case x in\n  x) echo multi ;;\nesac",
    # devices: /dev/null reads empty, /dev/zero and /dev/urandom never end
    "cat /dev/null; echo $?; test -e /dev/zero && echo e; test -f /dev/null || echo nf",
    "head -c 8 /dev/urandom | wc -c; head -c 5 /dev/zero | wc -c",
    "dd if=/dev/zero bs=1k count=2 2>/dev/null | wc -c; echo hi | dd 2>/dev/null",
    "dd if=/dev/urandom of=/tmp/.lure-dd bs=4k count=3 2>/dev/null; wc -c /tmp/.lure-dd; "
    "rm -f /tmp/.lure-dd",
    # syntax errors
    "case x in x echo bad;; esac",
    "echo )",
    "echo a ;; b",
    "echo >",
]

# Lines whose answer is a path of this machine's (bash on Debian 12: the
# same as the persona's); BusyBox's run here from a scratch directory
if PERSONA == "linux":
    PROBES += [
        "command -v ls; command -v echo; command -v nosuch; echo $?",
        "which wget ls; which nosuch; echo $?",
        "command -v wget >/dev/null && echo have-wget",
        "command echo via-command",
        "which curl || which wget",
        # bash's brace expansion (ash has none: the probe above for both)
        "echo {a,b}{c,d} x{1..3}y {z..w} {a} {} a{,b} {1..1} {-2..2} {a,b",
        "for i in {1..5}; do echo $i; done; echo {a,{b,c}}d {5..1}",
        "echo '{a,b}' \"{c,d}\"; echo pre{A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R}post",
    ]

# (persona, probe): why lure still answers differently
KNOWN = {}


def real_shell(real, line):
    """(stdout, stderr, status) of the real shell on this machine."""
    env = {"USER": "root", "LOGNAME": "root", "HOME": "/root", "PATH": PATHS[PERSONA]}
    if PERSONA == "linux":
        argv, exe = ["bash", "-c", line], "/bin/bash"
        env["SHELL"] = "/bin/bash"
    else:  # BusyBox's applets first in PATH
        argv, exe = ["ash", "-c", line], str(real / "ash")
        env["SHELL"] = "/bin/ash"
        env["PATH"] = f"{real}:{env['PATH']}"
    r = subprocess.run(argv, executable=exe, env=env, cwd="/root",
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    return r.stdout, r.stderr, r.returncode


def ssh_client(port, **auth):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port, username="root", look_for_keys=False,
              allow_agent=False, timeout=10, **auth)
    return c


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """A directory with BusyBox as ash and as each of its applets
    (openwrt)."""
    d = tmp_path_factory.mktemp("real")
    if PERSONA == "openwrt":
        bb = os.path.join(REPO, "build/deps/busybox-static/bin/busybox")
        if not os.access(bb, os.X_OK):
            pytest.skip("no BusyBox (tools/deps.sh persona installs it)")
        applets = subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split()
        for a in {"ash", *applets}:
            os.symlink(bb, d / a)
    return d


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    d = tmp_path_factory.mktemp("lure")
    s = Sensor(d, "lure")
    s.start({"state_file": str(d / "state"),
             "limits": {"idle_timeout": 120, "session_timeout": 900}}, wait=False)
    try:
        s.start_event = s.wait_event("status", timeout=60, event__reason="start")
        user, pw = LOGIN[PERSONA]
        c = ssh_client(s.port(22), password=pw)
        yield c
        c.close()
    finally:
        s.close()


def exec_line(client, line):
    _, out, err = client.exec_command(line, timeout=10)
    o, e = out.read(), err.read()
    return o, e, out.channel.recv_exit_status()


@pytest.mark.parametrize("line", PROBES)
def test_line_like_real_shell(real, ours, line, request):
    why = KNOWN.get((PERSONA, line))
    if why:
        request.applymarker(pytest.mark.xfail(reason=why, strict=True))
    assert exec_line(ours, line) == real_shell(real, line)


def test_sleep_waits_like_real_shell(real, ours):
    """sleep holds the output and the exit status as long as the real one
    does (a timer in lure, not a busy loop)."""
    line = "echo a; sleep 1; echo b"
    took = []
    for side in (ours, real):
        t = time.monotonic()
        got = exec_line(ours, line) if side is ours else real_shell(real, line)
        took.append(time.monotonic() - t)
        assert got == (b"a\nb\n", b"", 0)
    assert 0.95 <= took[0] < took[1] + 0.5, took


# The environment: env, printenv, export and $NAME after an SSH login, the
# real shell given what its daemon hands it (Debian 12's sshd with PAM:
# session.c's variables, then pam_env's LANG, pam_systemd's and pam_motd's;
# OpenWrt's dropbear: svr-chansession.c's, in their order), SSH_CLIENT and
# SSH_CONNECTION from this connection's own addresses and ports. bash runs
# with --norc: as sshd's child it would read ~/.bashrc, which is Debian's
# (it exports nothing) on the device and this machine's here.
ENV_PROBES = [
    "env",
    "env; echo",
    "export",
    "echo $MAIL. $SSH_CLIENT. $SSH_CONNECTION. $LANG. $SHLVL. $PWD. $TERM.",
    "cd /tmp; env; echo",
    "cd /tmp; export",
    "export X=1; env; echo",
    "x=2; env; echo",
    "export PATH=/bin; env; echo",
    "export HOME=/tmp X=y; export; echo $HOME",
    "unset X; env | grep -c =",
    "env | grep SSH_",
    "env X=1 sh -c 'echo $X'; env Y=2 | tail -n 1; echo $X.",
]
if PERSONA == "linux":
    ENV_PROBES += ["printenv", "printenv HOME USER; printenv NOPE; echo $?",
                   "printenv SSH_CLIENT"]

# (persona, probe): why lure still answers differently
ENV_KNOWN = {
    ("linux", "export PATH=/bin; env; echo"): "lure finds commands along "
    "shell.path, not the session's PATH: bash's _ names /bin/env",
}


def sshd_env(client):
    """The environment the daemon gives an exec request on this
    connection, in its order."""
    peer, pport = client.get_transport().sock.getsockname()[:2]
    ssh = {"SSH_CLIENT": f"{peer} {pport} 22",
           "SSH_CONNECTION": f"{peer} {pport} 127.0.0.1 22"}
    if PERSONA == "linux":
        return {"USER": "root", "LOGNAME": "root", "HOME": "/root",
                "MAIL": "/var/mail/root", "PATH": PATHS[PERSONA],
                "SHELL": "/bin/bash", **ssh, "LANG": "C.UTF-8",
                "XDG_SESSION_ID": "4", "XDG_RUNTIME_DIR": "/run/user/0",
                "XDG_SESSION_TYPE": "tty", "XDG_SESSION_CLASS": "user",
                "MOTD_SHOWN": "pam"}
    return {"USER": "root", "LOGNAME": "root", "HOME": "/root",
            "SHELL": "/bin/ash", "PATH": PATHS[PERSONA],
            "SSH_CONNECTION": ssh["SSH_CONNECTION"],
            "SSH_CLIENT": ssh["SSH_CLIENT"]}


@pytest.mark.parametrize("line", ENV_PROBES)
def test_environment_like_real_shell(real, ours, line, request):
    why = ENV_KNOWN.get((PERSONA, line))
    if why:
        request.applymarker(pytest.mark.xfail(reason=why, strict=True))
    env = sshd_env(ours)
    if PERSONA == "linux":
        argv, exe = ["bash", "--norc", "-c", line], "/bin/bash"
    else:  # the applets that are not ash's builtins from this machine
        argv, exe = ["ash", "-c", line], str(real / "ash")
    r = subprocess.run(argv, executable=exe, env=env, cwd="/root",
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert exec_line(ours, line) == (r.stdout, r.stderr, r.returncode)
