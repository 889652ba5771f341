#!/bin/sh
# size.sh BUILD_DIR...: one table row per build (target, TLS backend,
# stripped size of its static lure, the goal of issue 4), then the biggest
# contributors of each build as the linker kept them (from lure.map, after
# --gc-sections: lure's objects and each library member). A build dir is
# build/<target>-<persona>[-bearssl|-notls]. SIZE_TOP=N rows (default 12).
top=${SIZE_TOP:-12}
goal() { # goal <target> <tls>: KiB
	case "$1" in
	x86_64) g=256 ;;
	aarch64) g=288 ;;
	armhf) g=224 ;;
	mips | mipsel) g=320 ;;
	*) g="" ;;
	esac
	case "$2" in
	bearssl) [ -z "$g" ] || g=$((g - 32)) ;;
	mbedtls) ;;
	*) g="" ;; # no goal without TLS
	esac
	echo "$g"
}
printf '%-8s %-8s %10s %8s %8s  %s\n' target tls bytes KiB goal ok
for dir; do
	bin=$dir/lure
	base=$(basename "$dir")
	target=${base%%-*}
	case "$base" in
	*-bearssl*) tls=bearssl ;;
	*-notls*) tls=none ;;
	*) tls=mbedtls ;;
	esac
	if [ ! -f "$bin" ]; then
		printf '%-8s %-8s %10s\n' "$target" "$tls" "(no $bin)"
		continue
	fi
	file "$bin" 2>/dev/null | grep -q 'statically linked' ||
		echo "size: warning: $bin is not static" >&2
	n=$(stat -c %s "$bin")
	g=$(goal "$target" "$tls")
	ok=-
	[ -z "$g" ] || { [ "$n" -le $((g * 1024)) ] && ok=yes || ok=NO; }
	printf '%-8s %-8s %10s %8s %8s  %s\n' "$target" "$tls" "$n" \
		"$((n / 1024))" "${g:--}" "$ok"
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
