#!/bin/sh
# deps.sh: third-party code, fetched and built outside the source tree.
#
#   deps.sh mbedtls <target> <cc> <ar> [cflags]
#	mbedTLS from Debian's source archive (apt-get source), unpacked once
#	into build/deps/src/, built as static libmbedtls.a libmbedx509.a
#	libmbedcrypto.a with lure's src/mbedtls_config.h into
#	build/deps/<target>/mbedtls/{include,lib}. Cached: a stamp keyed by a
#	hash of the source version, the config, cc, ar, cflags and this script;
#	nothing is rebuilt (or touched) while the key is unchanged.
#   deps.sh tls-test
#	what `make test-tls` needs: nginx (nginx-light), openssl, pytest.
#
# The source comes through a private apt list (build/deps/apt/) derived from
# the system's Debian entries with Types deb-src, so the system's apt
# configuration is never changed and a failing index is tolerated.
# MBEDTLS_SRC=<unpacked source dir> skips the download (offline builds).
# Installs missing Debian packages (dpkg-dev, ...) with apt-get: needs root or
# sudo only then. Output: progress on stderr; exit 0 when ready.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${DEPS_DIR:-$top/build/deps}
JOBS=${DEPS_JOBS:-2}
APT_ETC=${DEPS_APT_ETC:-/etc/apt} # a test can point this at a fake tree

die() {
	echo "deps: $*" >&2
	exit 1
}
say() {
	echo "deps: $*" >&2
}

apt_install() { # apt_install <package>...: install from Debian, as root
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	say "installing $*"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >&2 && return 0
	# an old package index: refresh (a failing index is not fatal), retry
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >&2
}

# Lock build/deps so that two makes (or make -j) never build the same thing
# at once; the second waits, then finds the stamp.
lock() {
	mkdir -p "$DEPS"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$DEPS/.lock"
		flock 9
	fi
}

# deb-src entries for the Debian archives the system already uses (deb822
# .sources and one-line .list), so mirrors and proxies stay the system's.
debsrc_list() {
	for f in "$APT_ETC"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'function flush() {
			if (deb && uri && on) printf "%s\n", st
			st = ""; deb = 0; uri = 0; on = 1
		}
		BEGIN { on = 1 }
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { if ($0 ~ /[ \t]deb([ \t]|$)/) deb = 1
			st = st "Types: deb-src\n"; next }
		/^URIs:/ { if ($0 ~ /debian/) uri = 1 }
		/^Enabled:[ \t]*no/ { on = 0 }
		/^Architectures:/ { next }
		{ st = st $0 "\n" }
		END { flush() }' "$f"
	done
	for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[ \t]*deb[ \t]\(.*debian.*\)$/deb-src \1/p' "$f" |
			sed -e 's/arch=[^] ]*//' -e 's/\[ *\]//' \
				> "$DEPS/apt/onelines.tmp"
		if [ -s "$DEPS/apt/onelines.tmp" ]; then
			cat "$DEPS/apt/onelines.tmp" >> "$DEPS/apt/parts/debsrc.list"
		fi
	done
	rm -f "$DEPS/apt/onelines.tmp"
}

# mbedtls_src: set $src to an unpacked mbedTLS source tree (cached).
mbedtls_src() {
	if [ -n "${MBEDTLS_SRC:-}" ]; then
		[ -f "$MBEDTLS_SRC/library/ssl_tls.c" ] ||
			die "MBEDTLS_SRC=$MBEDTLS_SRC: no library/ssl_tls.c"
		src=$MBEDTLS_SRC
		return
	fi
	for d in "$DEPS"/src/mbedtls-*; do
		if [ -f "$d/.lure-unpacked" ]; then
			src=$d
			return
		fi
	done
	command -v apt-get >/dev/null 2>&1 ||
		die "no apt-get: set MBEDTLS_SRC to an unpacked mbedTLS 2.28 tree"
	command -v dpkg-source >/dev/null 2>&1 || apt_install dpkg-dev

	a=$DEPS/apt
	rm -rf "$a"
	mkdir -p "$a/parts" "$a/lists/partial" "$a/cache/archives/partial"
	debsrc_list > "$a/parts/debsrc.sources"
	[ -s "$a/parts/debsrc.sources" ] || [ -s "$a/parts/debsrc.list" ] ||
		die "no Debian archive in $APT_ETC/sources.list*"
	set -- -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$a/parts" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache"
	# as root apt hands downloads to _apt, which cannot write here
	[ "$(id -u)" != 0 ] || set -- "$@" -o APT::Sandbox::User=root
	say "fetching the Debian source index (deb-src)"
	apt-get "$@" -qq update >&2 || say "apt-get update failed for some index; going on"
	apt-cache "$@" showsrc mbedtls 2>/dev/null | grep -q '^Version: 2\.' ||
		die "no mbedtls 2.x source package in the Debian archive"

	dl=$DEPS/src/dl
	rm -rf "$dl"
	mkdir -p "$dl"
	# --download-only, then unpack ourselves: a missing debian.tar (seen
	# on mirrors) still leaves a usable, checksum-verified orig tarball
	(cd "$dl" && apt-get "$@" -qq --download-only source mbedtls >&2) ||
		say "apt-get source reported an error; using what was downloaded"
	dsc=$(ls "$dl"/mbedtls_*.dsc 2>/dev/null | head -1)
	orig=$(ls "$dl"/mbedtls_*.orig.tar.* 2>/dev/null | head -1)
	[ -n "$orig" ] || die "apt-get source mbedtls downloaded no source"
	ver=$(basename "$orig" | sed 's/^mbedtls_\(.*\)\.orig\.tar\..*$/\1/')
	d=$DEPS/src/mbedtls-$ver
	rm -rf "$d"
	# dpkg-source cannot check the .dsc signature without the maintainers'
	# keyring and says so; apt already verified every file's checksum
	# against the signed Release file.
	if [ -n "$dsc" ] && dpkg-source -x "$dsc" "$d" > "$dl.log" 2>&1; then
		:
	else
		[ -z "$dsc" ] || cat "$dl.log" >&2
		say "dpkg-source failed; unpacking the orig tarball"
		rm -rf "$d"
		mkdir -p "$d"
		tar -xf "$orig" -C "$d" --strip-components=1
	fi
	[ -f "$d/library/ssl_tls.c" ] || die "$d: not an mbedTLS tree"
	echo "$ver $(basename "${dsc:-$orig}")" > "$d/.lure-unpacked"
	# the index (20 MB) is only for this fetch
	rm -rf "$dl" "$dl.log" "$DEPS"/src/mbedtls_* "$a"
	src=$d
}

mbedtls() {
	[ $# -ge 3 ] || die "usage: deps.sh mbedtls <target> <cc> <ar> [cflags]"
	target=$1 cc=$2 ar=$3
	cflags=${4:--Os}
	cflags="$cflags -ffunction-sections -fdata-sections"
	cfg=$top/src/mbedtls_config.h
	out=$DEPS/$target/mbedtls
	[ -f "$cfg" ] || die "missing $cfg"

	lock
	mbedtls_src
	key=$({
		cat "$src/.lure-unpacked" 2>/dev/null || echo "$src"
		cat "$cfg"
		printf '%s\n' "$cc" "$ar" "$cflags"
		cat "$0"
	} | cksum | tr ' ' -)
	if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ] &&
		[ -f "$out/lib/libmbedcrypto.a" ]; then
		return 0
	fi

	say "building mbedTLS $(basename "$src") for $target ($cc $cflags)"
	w=$out/build
	rm -rf "$out"
	mkdir -p "$w" "$out/lib"
	cp -R "$src/library" "$src/include" "$src/3rdparty" "$w/"
	cp "$cfg" "$w/include/mbedtls/config.h"
	t0=$(date +%s)
	# the library Makefile only: the top-level `static` target also builds
	# programs and tests. No jobserver from an outer make reaches here.
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$w/library" \
		-j"$JOBS" CC="$cc" AR="$ar" CFLAGS="$cflags" \
		libmbedcrypto.a libmbedx509.a libmbedtls.a \
		> "$w/build.log" 2>&1; then
		tail -30 "$w/build.log" >&2
		die "mbedTLS build failed (log: $w/build.log)"
	fi
	cp "$w/library/libmbedcrypto.a" "$w/library/libmbedx509.a" \
		"$w/library/libmbedtls.a" "$out/lib/"
	cp -R "$w/include" "$out/include"
	rm -rf "$w/library" "$w/3rdparty" "$w/include"
	echo "$key" > "$out/.stamp"
	say "mbedTLS ready in $(($(date +%s) - t0)) s: $out"
}

tls_test() {
	pkgs=""
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
		pkgs="$pkgs nginx-light"
	command -v openssl >/dev/null 2>&1 || pkgs="$pkgs openssl"
	command -v python3 >/dev/null 2>&1 || pkgs="$pkgs python3"
	python3 -c 'import pytest' 2>/dev/null || pkgs="$pkgs python3-pytest"
	[ -z "$pkgs" ] || apt_install $pkgs
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
mbedtls) mbedtls "$@" ;;
tls-test) tls_test ;;
*) die "usage: deps.sh mbedtls <target> <cc> <ar> [cflags] | tls-test" ;;
esac
