#!/bin/sh
# deps.sh <build|unit|test|fuzz|bench|size|deploy|report|x86_64>: install what that step
# (or that TARGET: the Makefile asks before building for it) needs, from
# Debian's archive (and PyPI for python test libraries), only when missing.
# Idempotent; needs root (or sudo) only when something is actually missing.
set -e
need_pkgs=""
want() { # want <command-or-file> <debian package>
	case "$1" in
	/*) [ -e "$1" ] || need_pkgs="$need_pkgs $2" ;;
	*) command -v "$1" >/dev/null 2>&1 || need_pkgs="$need_pkgs $2" ;;
	esac
}
step=${1:-build}
want cc gcc
want make make
want /usr/include/jsmn.h libjsmn-dev
case "$step" in
unit) # test_shell.c compares echo and error texts with the real BusyBox
	want busybox busybox
	;;
test)
	want curl curl
	want telnet telnet
	want python3 python3
	want nc netcat-openbsd
	# test/it/test_catchall.py: the catch-all's redirect in a namespace
	want nft nftables
	want ip iproute2
	want openssl openssl
	want ssh openssh-client
	;;
persona)
	want curl curl
	want python3 python3
	want nmap nmap
	want ffprobe ffmpeg
	want openssl openssl
	# the SSH suite: Debian's sshd beside lure, its client, sshpass
	want /usr/sbin/sshd openssh-server
	want ssh openssh-client
	want sshpass sshpass
	# Debian's dropbear beside the dropbear personas
	want /usr/sbin/dropbear dropbear-bin
	# Debian's MariaDB beside the linux persona's (test_diff_mysql.py)
	want /usr/sbin/mariadbd mariadb-server
	want mariadb mariadb-client
	# Debian's vsftpd beside the linux persona's FTP, and a client
	want /usr/sbin/vsftpd vsftpd
	want lftp lftp
	# Debian's Redis beside the redis emulator, and redis-cli
	want redis-server redis-server
	want redis-cli redis-tools
	# Debian's Postfix beside the smtp emulator (test_diff_smtp.py, a
	# private instance: the system one is not used), Cyrus SASL's sasldb
	# for its submission port's AUTH, and swaks
	want /usr/lib/postfix/sbin/master postfix
	want saslpasswd2 sasl2-bin
	want /usr/lib/x86_64-linux-gnu/sasl2/libplain.so libsasl2-modules
	want swaks swaks
	# Debian's TigerVNC server (Xvnc) beside the vnc emulator, vncpasswd
	want Xvnc tigervnc-standalone-server
	want vncpasswd tigervnc-tools
	# Debian's smbclient against the windows persona's SMB
	want smbclient smbclient
	# FreeRDP's xfreerdp /auth-only against the windows persona's RDP
	# (xfreerdp 2 opens a display even then: Xvfb's xvfb-run gives it one)
	want xfreerdp freerdp2-x11
	want xvfb-run xvfb
	# FreeTDS's tsql against the windows persona's MSSQL
	want tsql freetds-bin
	;;
fuzz)
	want clang clang
	;;
scan) # test/scan: lure's scan observation against real scanners
	want nmap nmap
	want masscan masscan
	want /usr/sbin/zmap zmap
	want /usr/sbin/hping3 hping3
	want tcpdump tcpdump
	want ip iproute2
	want python3 python3
	want nc netcat-openbsd
	;;
ct) # make test-ct-sntrup761: memcheck and its client-request header
	want /usr/include/valgrind/memcheck.h valgrind
	;;
report) # test/report: lure-report against the OpenSearch node (es.sh installs java/maven), the HTML in Chromium
	want python3 python3
	want /usr/bin/chromium chromium
	want /usr/bin/chromedriver chromium-driver
	;;
bench)
	want nginx nginx-light
	want wrk wrk
	want python3 python3
	# test/bench/logins.py: the daemons the linux persona claims to be
	want /usr/sbin/vsftpd vsftpd
	want /usr/sbin/mariadbd mariadb-server
	want mariadb mariadb-client
	want redis-server redis-server
	# and the windows persona's SMB against Samba's smbd
	want /usr/sbin/smbd samba
	;;
size | x86_64) # x86_64: the TARGET's compiler (toolchains/x86_64.mk)
	want x86_64-linux-gnu-gcc gcc
	;;
deploy) # test/deploy: systemd-analyze, nspawn test hosts, ssh, qemu-system images, ipk tools
	want x86_64-linux-gnu-gcc gcc
	want curl curl
	want nc netcat-openbsd
	want python3 python3
	want systemd-analyze systemd
	want systemd-nspawn systemd-container
	want mmdebstrap mmdebstrap
	want ssh openssh-client
	want socat socat
	want ss iproute2
	want nsenter util-linux
	want cpio cpio
	# the ipk's and the unit's logrotate recipes; a CA file for lure -t's TLS check
	want logrotate logrotate
	want openssl openssl
	want shellcheck shellcheck
	want busybox busybox
	want ar binutils
	want qemu-system-mipsel qemu-system-mips
	want qemu-system-arm qemu-system-arm
	# test_openwrt.py runs lure-uci's packaged binary check under qemu-user
	want qemu-mipsel-static qemu-user-static
	want qemu-arm-static qemu-user-static
	;;
esac
if [ -n "$need_pkgs" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "deps: installing$need_pkgs" >&2
	case " $need_pkgs " in *" postfix "*) # unattended, as "Internet Site"
		printf '%s\n' 'postfix postfix/main_mailer_type select Internet Site' \
			'postfix postfix/mailname string debian' |
			$SUDO debconf-set-selections ;;
	esac
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >&2
fi
if [ "$step" = deploy ] && ! command -v ansible-playbook >/dev/null 2>&1; then
	# ansible-core from PyPI (Debian 12's ansible is 2.14 with 80 MB of collections)
	python3 -m pip install -q ansible-core 2>/dev/null ||
		python3 -m pip install -q --break-system-packages ansible-core
fi
if [ "$step" = test ] || [ "$step" = persona ] || [ "$step" = deploy ] || [ "$step" = scan ] ||
	[ "$step" = bench ] || [ "$step" = report ]; then
	# python test libraries: pytest runs the suite, pexpect drives telnet,
	# pytest-xdist runs a suite's tests in parallel (make test); bench:
	# test/bench/logins.py imports the persona suites' helpers (pytest)
	if ! python3 -c 'import pytest, pexpect, xdist' 2>/dev/null; then
		python3 -m pip install -q pytest pexpect pytest-xdist 2>/dev/null ||
			python3 -m pip install -q --break-system-packages pytest pexpect pytest-xdist 2>/dev/null || {
			SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
			$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pytest python3-pexpect python3-pytest-xdist >&2
		}
	fi
fi
# (report) lure-report's client library, the browser driver, the SSH brute force
if [ "$step" = report ] && ! python3 -c 'import opensearchpy, selenium, paramiko' 2>/dev/null; then
	python3 -m pip install -q opensearch-py selenium paramiko 2>/dev/null ||
		python3 -m pip install -q --break-system-packages opensearch-py selenium paramiko
fi
# (persona) WS-Discovery client that parses the ONVIF ProbeMatches
if [ "$step" = persona ] && ! python3 -c 'import wsdiscovery' 2>/dev/null; then
	python3 -m pip install -q WSDiscovery==2.1.2 2>/dev/null ||
		python3 -m pip install -q --break-system-packages WSDiscovery==2.1.2
fi
# (persona) the SSH suite's clients: paramiko and ssh-audit from PyPI; redis-py
if [ "$step" = persona ] &&
	! { python3 -c 'import paramiko, redis' 2>/dev/null && command -v ssh-audit >/dev/null; }; then
	python3 -m pip install -q paramiko ssh-audit redis 2>/dev/null ||
		python3 -m pip install -q --break-system-packages paramiko ssh-audit redis
fi
# (persona) impacket from PyPI: the SMB client of the windows persona's suite
# and its RDP check (rdp_check.py; its pyOpenSSL brings cryptography, which
# test_windows_rdp.py reads the certificate with)
if [ "$step" = persona ] && ! python3 -c 'import impacket' 2>/dev/null; then
	python3 -m pip install -q impacket 2>/dev/null ||
		python3 -m pip install -q --break-system-packages impacket
fi
# (persona) pymssql from PyPI (FreeTDS's DB-Library): the windows persona's
# MSSQL suite
if [ "$step" = persona ] && ! python3 -c 'import pymssql' 2>/dev/null; then
	python3 -m pip install -q pymssql 2>/dev/null ||
		python3 -m pip install -q --break-system-packages pymssql
fi
# (persona) a third SSH client implementation: asyncssh from PyPI
if [ "$step" = persona ] && ! python3 -c 'import asyncssh' 2>/dev/null; then
	python3 -m pip install -q asyncssh 2>/dev/null ||
		python3 -m pip install -q --break-system-packages asyncssh
fi
# (persona) the VNC suite's client: vncdotool from PyPI, and
# service_identity, which its Twisted imports once pyOpenSSL is installed
if [ "$step" = persona ] && ! python3 -c 'import vncdotool.client' 2>/dev/null; then
	python3 -m pip install -q vncdotool service_identity 2>/dev/null ||
		python3 -m pip install -q --break-system-packages vncdotool service_identity
fi
# (persona) the MySQL suite's client library: PyMySQL from PyPI
if [ "$step" = persona ] && ! python3 -c 'import pymysql' 2>/dev/null; then
	python3 -m pip install -q PyMySQL 2>/dev/null ||
		python3 -m pip install -q --break-system-packages PyMySQL
fi
# (test, persona) the real BusyBox telnetd and login for the telnet
# differential test (test/it/test_telnet_busybox.py): Debian's busybox-static
# has both applets (busybox has neither); unpacked into build/deps, never
# installed (it would replace the system's busybox).
if { [ "$step" = test ] || [ "$step" = persona ]; } &&
	[ ! -x build/deps/busybox-static/bin/busybox ]; then
	d=$(mktemp -d)
	set -- -qq -o APT::Sandbox::User=root
	[ "$(id -u)" = 0 ] || set -- -qq
	(cd "$d" && { apt-get "$@" download busybox-static >&2 ||
		{ ${SUDO:-} apt-get -qq update >&2 && apt-get "$@" download busybox-static >&2; }; }) &&
		mkdir -p build/deps/busybox-static &&
		dpkg-deb -x "$d"/busybox-static_*.deb build/deps/busybox-static
	rm -rf "$d"
fi
exit 0
