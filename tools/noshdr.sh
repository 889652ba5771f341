#!/bin/sh
# noshdr.sh BINARY: drop what a stripped static executable keeps that
# nothing reads when it runs: the section header table, .shstrtab and
# .comment (non-allocated, after the last loaded byte). The file is cut at
# the end of its last PT_LOAD and the ELF header's e_shoff, e_shnum and
# e_shstrndx are zeroed, as the kernel and musl read only the program
# headers. Saves ~1 KB on x86_64 (14 headers of 64 bytes, their names,
# the compiler's ident), ~0.7 KB on the 32-bit targets. readelf -l,
# objdump -d (no symbols either way) and qemu-user still read the result;
# file(1) says "no section header". Needs readelf (any binutils: it reads
# every architecture's ELF).
set -eu
bin=$1
# the ELF class (1: 32-bit, 2: 64-bit) from e_ident[EI_CLASS]
class=$(od -An -tu1 -j4 -N1 "$bin" | tr -d ' ')
# end of the file's loaded bytes: max(p_offset + p_filesz) over PT_LOAD
end=0
for e in $(readelf -lW "$bin" | awk '$1 == "LOAD" { print $2 ":" $5 }'); do
	off=${e%:*} filesz=${e#*:}
	[ $((off + filesz)) -le "$end" ] || end=$((off + filesz))
done
size=$(stat -c %s "$bin")
if [ "$end" -eq 0 ] || [ "$end" -gt "$size" ]; then
	echo "noshdr: $bin: no PT_LOAD end ($end of $size bytes)" >&2
	exit 1
fi
case "$class" in
1) shoff=32 shofflen=4 shnum=48 ;;
2) shoff=40 shofflen=8 shnum=60 ;;
*) echo "noshdr: $bin: ELF class $class?" >&2 && exit 1 ;;
esac
# zeros need no byte order: e_shoff, then e_shnum and e_shstrndx (2 + 2)
dd if=/dev/zero of="$bin" bs=1 seek="$shoff" count="$shofflen" conv=notrunc \
	status=none
dd if=/dev/zero of="$bin" bs=1 seek="$shnum" count=4 conv=notrunc status=none
truncate -s "$end" "$bin"
