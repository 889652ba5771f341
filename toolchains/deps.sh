#!/bin/sh
# deps.sh: third-party code, fetched from Debian and built outside the
# source tree, into build/deps/ (never committed). Every step is idempotent:
# a stamp keyed by a hash of its inputs (source version, flags, the step)
# skips it while nothing changed. `make` calls these steps itself.
#
#   deps.sh toolchain <target> <triple> <cpu flags>
#	a static musl toolchain for a cross target (and x86_64: triple
#	x86_64-linux-gnu, Debian's own gcc) in
#	build/deps/<target>/toolchain/: Debian's gcc-<triple> (installed when
#	missing), musl 1.2 built -Os from Debian's source with <cpu flags>, and for
#	soft-float flags (-msoft-float: OpenWrt mips, mipsel) libsoftfp.a,
#	gcc's soft-fp routines from Debian's gcc-12 source built soft-float,
#	because Debian's cross libgcc has only hard-float helpers (each one FPU
#	instruction: an illegal instruction on a router without an FPU
#	emulator). Gives bin/cc, a gcc wrapper that compiles and links against
#	that musl: the CC of toolchains/<target>.mk.
#   deps.sh mbedtls <target> <cc> <ar> [cflags] [config] [dir]
#	mbedTLS from Debian's source archive (apt-get source), unpacked once
#	into build/deps/src/, built as static libmbedtls.a libmbedx509.a
#	libmbedcrypto.a with lure's configuration (default
#	src/mbedtls_config.h) into build/deps/<target>/<dir, default
#	mbedtls>/{include,lib}.
#   deps.sh bearssl <target> <cc> <ar> [cflags]
#	BearSSL 0.6 from Debian's source archive, as libbearssl.a (every
#	source file; --gc-sections keeps what lure uses) into
#	build/deps/<target>/bearssl/{include,lib}.
#   deps.sh tls-test
#	what `make test-tls` needs: nginx (nginx-light), openssl, pytest.
#   deps.sh cross-test
#	what `make test-cross` needs: qemu-user-static, file, curl, telnet,
#	pytest and pexpect.
#
# Sources come through a private apt list (build/deps/apt/) derived from the
# system's Debian entries with Types deb-src, so the system's apt
# configuration is never changed (no foreign architecture is added) and a
# failing index is tolerated. MBEDTLS_SRC=<unpacked source dir> skips the
# mbedTLS download (offline builds). Installs missing Debian packages
# (dpkg-dev, cross gcc, ...) with apt-get: needs root or sudo only then.
# Output: progress on stderr; exit 0 when ready.
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

# deb_fetch <source package> <version prefix>: download the newest source
# package of that name (apt-get source --download-only) into $DEPS/src/dl
# and set $dsc and $orig (the .dsc, the orig tarball), $ver (its upstream
# version). The private index (20 MB) is removed by deb_done.
deb_fetch() {
	pkg=$1 want=$2
	command -v apt-get >/dev/null 2>&1 ||
		die "no apt-get: cannot fetch Debian's $pkg source"
	command -v dpkg-source >/dev/null 2>&1 || apt_install dpkg-dev

	a=$DEPS/apt
	if [ ! -f "$a/.updated" ]; then
		rm -rf "$a"
		mkdir -p "$a/parts" "$a/lists/partial" \
			"$a/cache/archives/partial"
		debsrc_list > "$a/parts/debsrc.sources"
		[ -s "$a/parts/debsrc.sources" ] ||
			[ -s "$a/parts/debsrc.list" ] ||
			die "no Debian archive in $APT_ETC/sources.list*"
	fi
	set -- -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$a/parts" \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache"
	# as root apt hands downloads to _apt, which cannot write here
	[ "$(id -u)" != 0 ] || set -- "$@" -o APT::Sandbox::User=root
	if [ ! -f "$a/.updated" ]; then
		say "fetching the Debian source index (deb-src)"
		apt-get "$@" -qq update >&2 ||
			say "apt-get update failed for some index; going on"
		touch "$a/.updated"
	fi
	apt-cache "$@" showsrc "$pkg" 2>/dev/null |
		grep -q "^Version: $want" ||
		die "no $pkg $want* source package in the Debian archive"

	dl=$DEPS/src/dl
	rm -rf "$dl"
	mkdir -p "$dl"
	# --download-only, then unpack ourselves: a missing debian.tar (seen
	# on mirrors) still leaves a usable, checksum-verified orig tarball
	(cd "$dl" && apt-get "$@" -qq --download-only source "$pkg" >&2) ||
		say "apt-get source reported an error; using what was downloaded"
	dsc=$(ls "$dl/${pkg}"_*.dsc 2>/dev/null | head -1)
	orig=$(ls "$dl/${pkg}"_*.orig.tar.* 2>/dev/null | grep -v '\.asc$' |
		head -1)
	[ -n "$orig" ] || die "apt-get source $pkg downloaded no source"
	ver=$(basename "$orig" | sed "s/^${pkg}_\(.*\)\.orig\.tar\..*\$/\1/")
}

deb_done() {
	rm -rf "$DEPS/src/dl" "$DEPS/src/dl.log" "$DEPS/apt"
}

# deb_src <source package> <version prefix> <a file of the tree>: set $src
# to the unpacked source tree (cached in $DEPS/src/<package>-<version>).
deb_src() {
	pkg=$1 want=$2 check=$3
	for d in "$DEPS/src/$pkg-$want"*; do
		if [ -f "$d/.lure-unpacked" ]; then
			src=$d
			return
		fi
	done
	deb_fetch "$pkg" "$want"
	d=$DEPS/src/$pkg-$ver
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
	[ -f "$d/$check" ] || die "$d: not a $pkg tree (no $check)"
	echo "$ver $(basename "${dsc:-$orig}")" > "$d/.lure-unpacked"
	# dpkg-source leaves a copy of the tarballs beside the tree
	rm -f "$DEPS/src/${pkg}_"*
	deb_done
	src=$d
}

# mbedtls_src: set $src to an unpacked mbedTLS source tree (cached).
mbedtls_src() {
	if [ -n "${MBEDTLS_SRC:-}" ]; then
		[ -f "$MBEDTLS_SRC/library/ssl_tls.c" ] ||
			die "MBEDTLS_SRC=$MBEDTLS_SRC: no library/ssl_tls.c"
		src=$MBEDTLS_SRC
		return
	fi
	deb_src mbedtls 2. library/ssl_tls.c
}

# softfp_src: set $src to gcc's libgcc/soft-fp and include/longlong.h,
# taken from Debian's gcc-12 source (an 87 MB tarball holding the upstream
# tarball: only those files are unpacked; cached).
softfp_src() {
	d=$DEPS/src/gcc-softfp
	if [ -f "$d/.lure-unpacked" ]; then
		src=$d
		return
	fi
	deb_fetch gcc-12 12.
	rm -rf "$d"
	mkdir -p "$d"
	inner=$(tar -tzf "$orig" | grep '/gcc-[0-9.]*-dfsg\.tar\.xz$' | head -1)
	[ -n "$inner" ] || die "$orig: no gcc-*-dfsg.tar.xz inside"
	say "unpacking libgcc/soft-fp from $(basename "$orig")"
	tar -xzOf "$orig" "$inner" | tar -xJf - -C "$d" --strip-components=1 \
		--wildcards '*/libgcc/soft-fp/*' '*/libgcc/config/mips/*' \
		'*/include/longlong.h'
	[ -f "$d/libgcc/soft-fp/adddf3.c" ] || die "$d: no libgcc/soft-fp"
	echo "$ver $(basename "$orig")" > "$d/.lure-unpacked"
	deb_done
	src=$d
}

mbedtls() {
	[ $# -ge 3 ] ||
		die "usage: deps.sh mbedtls <target> <cc> <ar> [cflags] [config] [dir]"
	target=$1 cc=$2 ar=$3
	cflags=${4:--Os}
	cflags="$cflags -ffunction-sections -fdata-sections"
	cfg=${5:-src/mbedtls_config.h}
	case "$cfg" in /*) ;; *) cfg=$top/$cfg ;; esac
	out=$DEPS/$target/${6:-mbedtls}
	[ -f "$cfg" ] || die "missing $cfg"

	lock
	mbedtls_src
	key=$({
		cat "$src/.lure-unpacked" 2>/dev/null || echo "$src"
		cat "$cfg" "$top/src/mbedtls_config.h"
		printf '%s\n' "$cc" "$ar" "$cflags"
		# this step's code, not the whole script: another step's edit
		# rebuilds nothing here
		sed -n '/^mbedtls() {/,/^}/p' "$0"
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
	# a variant (src/mbedtls_config_client.h) includes the main file
	cp "$cfg" "$w/include/mbedtls/config.h"
	cp "$top/src/mbedtls_config.h" "$w/include/mbedtls/mbedtls_config.h"
	# the shipper's client only verifies: the key-type tables lose their
	# private-key operations (sign, decrypt, key-pair check: mbedtls_pk_*
	# then answer "type mismatch"), so --gc-sections drops RSA's private
	# operation and ECDSA signing
	if grep -q '^#define LURE_MBEDTLS_CLIENT_ONLY 1' "$cfg"; then
		ops='^    \(rsa_sign_wrap\|rsa_decrypt_wrap\|rsa_check_pair_wrap'
		ops="$ops"'\|eckey_sign_wrap\|ecdsa_sign_wrap\|eckey_check_pair\),'
		[ "$(grep -c "$ops" "$w/library/pk_wrap.c")" = 8 ] ||
			die "pk_wrap.c: not the 8 table entries the client edit expects"
		sed -i "s/$ops.*\$/    NULL,/" "$w/library/pk_wrap.c"
	fi
	t0=$(date +%s)
	# MIPS16 cannot hold bn_mul.h's MIPS32 assembly: bignum.o is built
	# first as MIPS32 (make then keeps it; -minterlink-compressed links it)
	case " $cflags " in *" -mips16 "*)
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$w/library" \
			CC="$cc" AR="$ar" \
			CFLAGS="$(echo " $cflags " | sed 's/ -mips16 / /')" \
			bignum.o > "$w/build.log" 2>&1 || {
			tail -30 "$w/build.log" >&2
			die "mbedTLS bignum.c failed (log: $w/build.log)"
		}
		;;
	esac
	# the library Makefile only: the top-level `static` target also builds
	# programs and tests. No jobserver from an outer make reaches here.
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$w/library" \
		-j"$JOBS" CC="$cc" AR="$ar" CFLAGS="$cflags" \
		libmbedcrypto.a libmbedx509.a libmbedtls.a \
		>> "$w/build.log" 2>&1; then
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

# par_cc <objdir> <cc and flags> <file>...: compile each C file (a path
# relative to the current directory) into <objdir>, $JOBS at a time; the
# object is named after the path (a/b.c -> a_b.o).
par_cc() {
	obj=$1 cmd=$2
	shift 2
	mkdir -p "$obj"
	cat > "$obj/cc.sh" <<EOF
#!/bin/sh
set -e
for f; do o=\$(echo "\$f" | tr / _); $cmd -c "\$f" -o "$obj/\${o%.c}.o"; done
EOF
	printf '%s\n' "$@" | xargs -P "$JOBS" -n 8 sh "$obj/cc.sh" \
		> "$obj/build.log" 2>&1 || {
		tail -20 "$obj/build.log" >&2
		die "compile failed (log: $obj/build.log)"
	}
	rm -f "$obj/cc.sh"
}

# A change here rebuilds every toolchain (musl takes 1.5-2.5 min at -j2):
# bump it when the toolchain step changes, not for unrelated edits.
TOOLCHAIN_REV=3
# gcc soft-fp routines for single and double precision (o32 MIPS has no
# long double beyond double): all that gcc calls for C float arithmetic.
SOFTFP_FILES="adddf3 addsf3 divdf3 divsf3 eqdf2 eqsf2 extendsfdf2 fixdfdi
fixdfsi fixsfdi fixsfsi fixunsdfdi fixunsdfsi fixunssfdi fixunssfsi floatdidf
floatdisf floatsidf floatsisf floatundidf floatundisf floatunsidf floatunsisf
gedf2 gesf2 ledf2 lesf2 muldf3 mulsf3 negdf2 negsf2 subdf3 subsf3 truncdfsf2
unorddf2 unordsf2"

toolchain() {
	[ $# -ge 3 ] ||
		die "usage: deps.sh toolchain <target> <triple> <cpu flags>"
	target=$1 triple=$2 cpu=$3
	out=$DEPS/$target/toolchain
	command -v "$triple-gcc" >/dev/null 2>&1 || apt_install "gcc-$triple"
	gccver=$("$triple-gcc" -dumpfullversion 2>/dev/null ||
		"$triple-gcc" -dumpversion)
	lock
	key=$(printf '%s\n' "$TOOLCHAIN_REV" "$triple" "$cpu" "$gccver" |
		cksum | tr ' ' -)
	if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ] &&
		[ -x "$out/bin/cc" ] && [ -f "$out/lib/libc.a" ]; then
		return 0
	fi
	softfloat=0
	case " $cpu " in *" -msoft-float "*) softfloat=1 ;; esac
	deb_src musl 1. src/stdio/vfprintf.c
	musl=$src
	if [ "$softfloat" = 1 ]; then
		softfp_src
		sfsrc=$src
	fi

	t0=$(date +%s)
	say "building musl $(basename "$musl") for $target ($triple-gcc $cpu)"
	rm -rf "$out"
	w=$out/build
	mkdir -p "$w" "$out/bin"
	cp -R "$musl" "$w/musl"
	if ! (cd "$w/musl" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL sh -c '
		./configure --target="$1" --prefix="$2" --syslibdir="$2/lib" \
			--disable-shared --disable-wrapper CC="$1-gcc" \
			CROSS_COMPILE="$1-" \
			CFLAGS="$3 -Oz -ffunction-sections -fdata-sections" &&
		make -j"$4" && make install' sh "$triple" "$out" "$cpu" "$JOBS" \
		> "$w/musl.log" 2>&1); then
		tail -30 "$w/musl.log" >&2
		die "musl build failed (log: $w/musl.log)"
	fi
	lib=$out/lib
	libgcc="libgcc.a%s"
	ldwarn=""
	if [ "$softfloat" = 1 ]; then
		say "building soft-float helpers (gcc soft-fp) for $target"
		files=""
		for f in $SOFTFP_FILES; do files="$files $f.c"; done
		(cd "$sfsrc/libgcc/soft-fp" && par_cc "$w/softfp" \
			"$triple-gcc $cpu -Os -fno-pie -ffunction-sections -I$sfsrc/libgcc/config/mips -I. -I$sfsrc/include" \
			$files)
		"$triple-ar" rcs "$lib/libsoftfp.a" "$w"/softfp/*.o
		# before libgcc: its helpers are hard-float (FPU instructions)
		libgcc="$lib/libsoftfp.a libgcc.a%s"
		# libgcc's integer helpers and crtbegin carry the hard-float
		# ABI tag: ld would warn about each (tools/floatcheck.sh
		# checks the binary instead)
		ldwarn="-Wl,--no-warn-mismatch"
	fi
	sh "$musl/tools/musl-gcc.specs.sh" "$out/include" "$lib" \
		"/lib/ld-musl-$target.so.1" |
		sed "s#^libgcc\.a%s#$libgcc#" > "$lib/musl-gcc.specs"
	# Debian's gcc makes PIE by default: static binaries need none of it
	cat > "$out/bin/cc" <<EOF
#!/bin/sh
# $triple-gcc against lure's static musl for $target (toolchains/deps.sh)
exec $triple-gcc $cpu -fno-pie "\$@" -no-pie $ldwarn -specs $lib/musl-gcc.specs
EOF
	chmod +x "$out/bin/cc"
	rm -rf "$w"
	echo "$key" > "$out/.stamp"
	say "toolchain for $target ready in $(($(date +%s) - t0)) s: $out"
}

bearssl() {
	[ $# -ge 3 ] || die "usage: deps.sh bearssl <target> <cc> <ar> [cflags]"
	target=$1 cc=$2 ar=$3
	cflags=${4:--Os}
	cflags="$cflags -ffunction-sections -fdata-sections"
	out=$DEPS/$target/bearssl
	lock
	deb_src bearssl 0.6 src/ssl/ssl_engine.c
	key=$({
		cat "$src/.lure-unpacked"
		printf '%s\n' "$cc" "$ar" "$cflags"
		sed -n '/^bearssl() {/,/^}/p' "$0"
	} | cksum | tr ' ' -)
	if [ "$(cat "$out/.stamp" 2>/dev/null)" = "$key" ] &&
		[ -f "$out/lib/libbearssl.a" ]; then
		return 0
	fi
	say "building BearSSL $(basename "$src") for $target ($cc $cflags)"
	t0=$(date +%s)
	rm -rf "$out"
	mkdir -p "$out/lib"
	(cd "$src" && par_cc "$out/obj" "$cc $cflags -Isrc -Iinc" \
		$(ls src/*.c src/*/*.c))
	"$ar" rcs "$out/lib/libbearssl.a" "$out"/obj/*.o
	cp -R "$src/inc" "$out/include"
	rm -rf "$out/obj"
	echo "$key" > "$out/.stamp"
	say "BearSSL ready in $(($(date +%s) - t0)) s: $out"
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

cross_test() {
	pkgs=""
	command -v qemu-arm-static >/dev/null 2>&1 ||
		pkgs="$pkgs qemu-user-static"
	command -v file >/dev/null 2>&1 || pkgs="$pkgs file"
	[ -z "$pkgs" ] || apt_install $pkgs
	sh "$top/tools/deps.sh" test
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
toolchain) toolchain "$@" ;;
mbedtls) mbedtls "$@" ;;
bearssl) bearssl "$@" ;;
tls-test) tls_test ;;
cross-test) cross_test ;;
*) die "usage: deps.sh toolchain|mbedtls|bearssl|tls-test|cross-test ..." ;;
esac
