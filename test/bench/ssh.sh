#!/bin/sh
# ssh.sh LURE_BIN [ssh_bench.py options]: SSH CPU per handshake (to the first
# authentication failure) of lure's linux persona against Cowrie, OpenCanary,
# Debian's dropbear and Debian's sshd, side by side on loopback (see
# test/bench/ssh_bench.py). Installs what is missing: openssh-server,
# openssh-client, dropbear-bin, sshpass and python3-venv from apt; Cowrie and
# OpenCanary from PyPI, each into its own virtualenv under build/sshbench/ made
# with Debian's python3 (they run as nobody, who must be able to read the
# interpreter). Needs root. Not pass/fail: it prints a table (exit 1 only
# when lure's handshakes fail).
set -eu
cd "$(dirname "$0")/../.."

[ $# -ge 1 ] || { echo "usage: ssh.sh LURE_BIN [options]" >&2; exit 2; }
lure=$1
shift
V=${SSHBENCH_VENVS:-build/sshbench}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
need=""
for p in openssh-server openssh-client dropbear-bin sshpass python3-venv; do
	installed "$p" || need="$need $p"
done
if [ -n "$need" ]; then
	echo "ssh.sh: apt-get install$need" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >&2
fi

# venv DIR PACKAGE: a virtualenv of Debian's python3 with PACKAGE (kept; a
# failed install leaves that daemon out of the table). twistd run once as
# root writes the plugin cache that nobody could not write.
venv() {
	[ -x "$1/bin/twistd" ] && return 0
	echo "ssh.sh: pip install $2 into $1" >&2
	rm -rf "$1"
	if ! { /usr/bin/python3 -m venv "$1" &&
		"$1/bin/pip" install -q "$2" >&2 &&
		"$1/bin/twistd" --help >/dev/null; }; then
		echo "ssh.sh: no $2: left out" >&2
		rm -rf "$1"
	fi
}
mkdir -p "$V"
venv "$V/venv-cowrie" cowrie
venv "$V/venv-opencanary" opencanary

uptime >&2
exec python3 test/bench/ssh_bench.py --lure "$lure" \
	--cowrie-venv "$V/venv-cowrie" --opencanary-venv "$V/venv-opencanary" "$@"
