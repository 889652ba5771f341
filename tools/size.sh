#!/bin/sh
# size.sh BUILD_DIR...: one table row per build (target, persona, TLS
# backend, stripped size of its static lure, its budget), then the biggest
# contributors of each build as the linker kept them (from lure.map, after
# --gc-sections: lure's objects and each library member). A build dir is
# build/<target>-<persona>[-bearssl|-notls] (a prefix such as "size-" is
# skipped). SIZE_TOP=N rows (default 12). Exit 1 when a binary is over its
# budget (or, for a build listed in ceiling(), over that ceiling) or
# missing: `make size` fails then.
top=${SIZE_TOP:-12}
budget() { # budget <target> <persona> <tls>: KiB, or "" (none)
	case "$2" in
	generic)
		case "$1" in
		x86_64) g=256 ;;
		aarch64) g=288 ;;
		armhf) g=224 ;;
		mips | mipsel) g=320 ;;
		*) g="" ;;
		esac
		;;
	# the router persona (SSH, shell, HTTPS) on the router CPU
	openwrt) [ "$1" = mipsel ] && g=384 || g="" ;;
	*) g="" ;;
	esac
	case "$3" in
	bearssl) [ -z "$g" ] || g=$((g - 32)) ;;
	mbedtls) ;;
	*) g="" ;; # no budget without TLS
	esac
	echo "$g"
}
# ceiling <target> <persona> <tls>: KiB, for a build whose budget is not
# met yet: make size fails above it instead, so such a build can only
# shrink. None today (every build meets its budget since 2026-12-07);
# a line is "x86_64-generic-mbedtls) echo 269 ;;".
ceiling() {
	case "$1-$2-$3" in
	*) ;;
	esac
}
rc=0
printf '%-8s %-9s %-8s %10s %8s %8s  %s\n' target persona tls bytes KiB \
	budget ok
for dir; do
	bin=$dir/lure
	base=$(basename "$dir")
	for t in x86_64 aarch64 armhf mipsel mips host; do
		case "$base" in *"$t"-*) base=$t-${base#*"$t"-} && break ;; esac
	done
	target=${base%%-*}
	persona=${base#*-}
	persona=${persona%-bearssl}
	persona=${persona%-notls}
	persona=${persona%-san}
	case "$base" in
	*-bearssl*) tls=bearssl ;;
	*-notls*) tls=none ;;
	*) tls=mbedtls ;;
	esac
	if [ ! -f "$bin" ]; then
		printf '%-8s %-9s %-8s %10s\n' "$target" "$persona" "$tls" \
			"(no $bin)"
		rc=1
		continue
	fi
	file "$bin" 2>/dev/null | grep -q 'statically linked' ||
		echo "size: warning: $bin is not static" >&2
	n=$(stat -c %s "$bin")
	g=$(budget "$target" "$persona" "$tls")
	ok=-
	if [ -n "$g" ]; then
		c=$(ceiling "$target" "$persona" "$tls")
		if [ "$n" -le $((g * 1024)) ]; then
			ok=yes
			[ -z "$c" ] || ok="yes (drop its ceiling from tools/size.sh)"
		elif [ -n "$c" ] && [ "$n" -le $((c * 1024)) ]; then
			ok="MISSED by $((n - g * 1024)) B (under its ceiling, $c KiB)"
		else
			ok="NO ($((n - g * 1024)) B over)"
			rc=1
		fi
	fi
	printf '%-8s %-9s %-8s %10s %8s %8s  %s\n' "$target" "$persona" \
		"$tls" "$n" "$((n / 1024))" "${g:--}" "$ok"
done
for dir; do
	map=$dir/lure.map
	[ -f "$map" ] || continue
	echo
	echo "$dir: biggest contributors (bytes of code and data kept):"
	# input sections of .text/.rodata/.data* as "<section> <addr> <size>
	# <file>", on one line or wrapped after a long section name
	awk '/^Linker script and memory map/ { on = 1 }
		on && /^ \.(text|rodata|data|sdata|srodata)/ {
			if (NF >= 4) { print $3, $4 } else { getline; print $2, $3 } }' "$map" |
		while read -r hex f; do
			case "$hex" in 0x*) echo "$((hex)) ${f##*/}" ;; esac
		done | awk '$1 > 0 { s[$2] += $1 } END { for (f in s) print s[f], f }' |
		sort -rn | head -"$top" |
		while read -r n f; do printf '  %8s %s\n' "$n" "$f"; done
done
exit $rc
