#!/bin/sh
# mkipk.sh <target> <lure binary> <out dir> <version>: an OpenWrt .ipk of the
# static binary with the procd init, the UCI default config and its mapper,
# the logrotate recipe (platform/openwrt/files/). Prints the .ipk's path.
# Byte-reproducible: fixed owner, mode and mtime (SOURCE_DATE_EPOCH, default
# 0), sorted names, gzip -n.
# Layout as OpenWrt's ipkg-build: an outer tar.gz of ./debian-binary,
# ./data.tar.gz and ./control.tar.gz.
set -eu
umask 022
target=$1 bin=$2 out=$3 version=$4
here=$(cd "$(dirname "$0")/.." && pwd)
files=$here/platform/openwrt/files
case $target in
x86_64) arch=x86_64 ;;
mipsel) arch=mipsel_24kc ;;
mips) arch=mips_24kc ;;
armhf) arch=arm_cortex-a7_neon-vfpv4 ;;
aarch64) arch=aarch64_generic ;;
*)
	echo "mkipk: TARGET=$target: no OpenWrt package (x86_64 mipsel mips armhf aarch64)" >&2
	exit 2
	;;
esac
[ -x "$bin" ] || {
	echo "mkipk: $bin: no binary" >&2
	exit 2
}
epoch=${SOURCE_DATE_EPOCH:-0}
w=$out/ipk.work
rm -rf "$w"
mkdir -p "$w/data/usr/sbin" "$w/data/usr/libexec" "$w/data/etc/init.d" "$w/data/etc/config" \
	"$w/data/etc/lure" "$w/data/etc/logrotate.d" "$w/control"
install -m 0755 "$bin" "$w/data/usr/sbin/lure"
install -m 0755 "$files/lure-uci" "$w/data/usr/libexec/lure-uci"
install -m 0755 "$files/lure.init" "$w/data/etc/init.d/lure"
install -m 0600 "$files/lure.config" "$w/data/etc/config/lure"
install -m 0644 "$files/lure.logrotate" "$w/data/etc/logrotate.d/lure"
install -D -m 0644 "$files/lure-catchall.nft" "$w/data/usr/share/lure/lure-catchall.nft"
chmod 0755 "$w/data/etc/lure"
size=$(du -sb "$w/data" | cut -f1)
cat >"$w/control/control" <<C
Package: lure
Version: $version-1
Source: platform/openwrt
SourceDateEpoch: $epoch
Section: net
Architecture: $arch
Installed-Size: $size
Description: lure, a tiny network sensor (low-interaction honeypot): device
 personas, ECS events shipped to Elasticsearch or OpenSearch, one static binary.
C
printf '/etc/config/lure\n/etc/logrotate.d/lure\n' >"$w/control/conffiles"
install -m 0755 "$files/postinst" "$w/control/postinst"
install -m 0755 "$files/prerm" "$w/control/prerm"
printf '2.0\n' >"$w/debian-binary"
tgz() { # tgz <dir> <out.tar.gz> <members...>
	d=$1 o=$2
	shift 2
	(cd "$d" && tar --format=gnu --numeric-owner --owner=0 --group=0 --mtime="@$epoch" \
		--sort=name -cf - "$@") | gzip -9n >"$o"
}
tgz "$w/data" "$w/data.tar.gz" .
tgz "$w/control" "$w/control.tar.gz" .
ipk=$out/lure_$version-1_$arch.ipk
tgz "$w" "$ipk.tmp" ./debian-binary ./data.tar.gz ./control.tar.gz
mv "$ipk.tmp" "$ipk"
rm -rf "$w"
echo "$ipk"
