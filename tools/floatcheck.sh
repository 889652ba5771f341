#!/bin/sh
# floatcheck.sh TARGET BINARY: fail (exit 1, the culprits on stderr) when
# floating point reaches lure. OpenWrt's mips/mipsel kernels have no FPU
# emulator: one FPU instruction is SIGILL, so lure's code has no float.
#   1. every target: lure's own objects and the TLS library members the
#      link kept (BINARY.map, written by -Wl,-Map) neither reference a
#      soft-float helper (__adddf3, __aeabi_dmul...) nor contain an FPU
#      instruction of that architecture;
#   2. soft-float targets (mips, mipsel): BINARY has no FPU instruction at
#      all (libc included). musl's printf/scanf float code is the one
#      expected user of the soft-fp helpers (libsoftfp.a, integer code);
#      the helpers linked and who pulled each are listed, for the record.
# Needs the target's binutils (<triple>-objdump, -nm) or the host's.
set -eu
target=$1 bin=$2
map=$bin.map
case "$target" in
host | x86_64) pre="" ;;
aarch64) pre=aarch64-linux-gnu- ;;
armhf) pre=arm-linux-gnueabihf- ;;
mipsel) pre=mipsel-linux-gnu- ;;
mips) pre=mips-linux-gnu- ;;
*) echo "floatcheck: unknown target $target" >&2 && exit 2 ;;
esac
# an FPU instruction, as objdump -d prints it, per architecture
case "$target" in
host | x86_64) fpu='	(cvt[a-z0-9]*s[sd]|cvt[a-z]*2s[sd]|(add|sub|mul|div|sqrt|min|max|u?comi)s[sd]|f(add|sub|mul|div|ld|st|ild|ist)[a-z]*)[ 	]' ;;
aarch64) fpu='	(fadd|fsub|fmul|fdiv|fmadd|fmsub|fnmul|fsqrt|fcmpe?|fccmpe?|fcvt[a-z]*|[su]cvtf|frint[a-z]*|fmax|fmin|fabs|fneg)[ 	]' ;;
armhf) fpu='	v?(add|sub|mul|div|sqrt|cmpe?|cvt[a-z0-9.]*|neg|abs|mla|mls|fma|fms|nmul)[a-z]*\.f(32|64)[ 	]' ;;
mips | mipsel) fpu='\$f[0-9]|	(cfc1|ctc1|bc1[ft]l?)[ 	]' ;;
esac
helpers='^__(add|sub|mul|div|neg|eq|ne|lt|le|gt|ge|unord|cmp)(sf|df|tf|xf)[23]$|^__(fix|fixuns)(sf|df|tf|xf)(si|di|ti)$|^__float(un)?(si|di|ti)(sf|df|tf|xf)$|^__(extend|trunc)(sf|df|tf|xf)(sf|df|tf|xf)2$|^__aeabi_(d|f)[a-z0-9]+$|^__aeabi_[ul]?[il]2[df]$|^__pow[i]?(sf|df)2$'

[ -f "$bin" ] || { echo "floatcheck: no $bin" >&2 && exit 2; }
[ -f "$map" ] || { echo "floatcheck: no $map (link with -Wl,-Map=\$@.map)" >&2 && exit 2; }
fail=0

# The link's inputs: lure's objects (lines naming a .o outside an archive)
# and the archive members kept from the TLS libraries.
objs=$(awk '/^LOAD / { print $2 }' "$map" | grep '\.o$' | grep -v '/crt[^/]*\.o$' || true)
members=$(sed -n 's/^\([^ (]*lib\(mbedtls\|mbedx509\|mbedcrypto\|bearssl\)\.a\)(\([^)]*\)).*$/\1 \3/p' "$map" | sort -u)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for o in $objs; do
	"${pre}nm" -u "$o" 2>/dev/null | awk '{ print $NF }' |
		grep -E "$helpers" | sed "s|^|$o: float helper |" >> "$tmp/bad" || true
	"${pre}objdump" -d "$o" 2>/dev/null | grep -E "$fpu" | head -3 |
		sed "s|^|$o: FPU instruction: |" >> "$tmp/bad" || true
done
echo "$members" | while read -r lib m; do
	[ -n "$lib" ] || continue
	(cd "$tmp" && "${pre}ar" x "$lib" "$m" 2>/dev/null) || continue
	"${pre}nm" -u "$tmp/$m" 2>/dev/null | awk '{ print $NF }' |
		grep -E "$helpers" | sed "s|^|$lib($m): float helper |" >> "$tmp/bad" || true
	rm -f "$tmp/$m"
done
# Archive members the link pulled: "member|referencing file|symbol".
awk '/^Archive member included/ { on = 1; next }
	/^(Discarded|Memory map|Allocating common|Memory Configuration)/ { on = 0 }
	on && /^[^ ]/ { m = $1; if (NF == 1) getline; else $1 = ""
		r = $1; s = $2; gsub(/[()]/, "", s); sub(/.*\//, "", m)
		sub(/.*\//, "", r); print m "|" r "|" s }' "$map" > "$tmp/pulled"
awk -F'|' '{ print $3 "|" $2 }' "$tmp/pulled" | while IFS='|' read -r sym by; do
	if echo "$sym" | grep -Eq "$helpers"; then
		case "$by" in
		libc.a\(*) echo "$sym <- $by" >> "$tmp/libc" ;;
		*) echo "$by: float helper $sym (linked)" >> "$tmp/bad" ;;
		esac
	fi
done
if [ -s "$tmp/bad" ]; then
	echo "floatcheck: floating point in lure's code or its TLS library ($target):" >&2
	sort -u "$tmp/bad" | sed 's/^/  /' >&2
	fail=1
fi

case "$target" in
mips | mipsel)
	n=$("${pre}objdump" -d "$bin" | grep -cE "$fpu" || true)
	if [ "$n" != 0 ]; then
		echo "floatcheck: $bin: $n FPU instructions (soft-float target):" >&2
		"${pre}objdump" -d "$bin" | grep -E "$fpu" | head -5 >&2
		fail=1
	fi
	;;
esac
if [ "$fail" = 0 ] && [ -s "$tmp/libc" ]; then
	echo "floatcheck: $target: ok; float helpers only for musl's printf/scanf: $(sort -u "$tmp/libc" | sed 's/ <- .*//' | tr '\n' ' ')" >&2
fi
exit $fail
