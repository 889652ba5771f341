#!/bin/sh
# deps.sh <build|test|fuzz|bench|size>: install what that step needs, from
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
test)
	want curl curl
	want telnet telnet
	want python3 python3
	want nc netcat-openbsd
	;;
fuzz)
	want clang clang
	;;
bench)
	want nginx nginx-light
	want wrk wrk
	want python3 python3
	;;
size)
	want musl-gcc musl-tools
	;;
esac
if [ -n "$need_pkgs" ]; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "deps: installing$need_pkgs" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >&2
fi
if [ "$step" = test ]; then
	# python test libraries: pytest runs the suite, pexpect drives telnet
	if ! python3 -c 'import pytest, pexpect' 2>/dev/null; then
		python3 -m pip install -q pytest pexpect 2>/dev/null ||
			python3 -m pip install -q --break-system-packages pytest pexpect 2>/dev/null || {
			SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
			$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pytest python3-pexpect >&2
		}
	fi
fi
exit 0
