#!/bin/sh
# mkimage.sh <target> <build dir> <version>: a bootable qemu-system test image
# for a router target: Debian's kernel for that architecture and an initramfs
# holding BusyBox (Debian's busybox-static) and the contents of the target's
# .ipk (lure, lure-uci, the UCI config), whose /init maps the UCI config with
# lure-uci and runs lure (respawned). Writes <build dir>/image/: vmlinuz,
# initramfs.cpio.gz, qemu.args (the machine's qemu arguments; the caller adds
# -netdev user,id=n0,... with its forwards) and prints that directory.
# Debian packages come through a private apt index (build/deploy/apt-<arch>/):
# the system's apt configuration and dpkg architectures are left alone.
# The image's UCI config ships events to http://10.0.2.100:9200 (a guestfwd to
# the host's OpenSearch node) with sensor_id qemu-<target>; edit $IMAGE_UCI to
# use another (IMAGE_UCI=<file> sh fw-images/mkimage.sh ...).
set -eu
umask 022
target=$1 b=$(cd "$2" && pwd) version=$3
here=$(cd "$(dirname "$0")/.." && pwd)
cache=$here/build/deploy
case $target in
mipsel)
	arch=mipsel ipkarch=mipsel_24kc kmeta=linux-image-4kc-malta
	mods="drivers/net/mii.ko drivers/net/ethernet/amd/pcnet32.ko"
	qemu="qemu-system-mipsel -M malta -m 128 -vga none -device pcnet,netdev=n0,romfile="
	console=ttyS0
	;;
armhf)
	arch=armhf ipkarch=arm_cortex-a7_neon-vfpv4 kmeta=linux-image-armmp
	mods="drivers/virtio/virtio_mmio.ko net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko"
	qemu="qemu-system-arm -M virt,highmem=off -cpu cortex-a7 -m 128 -device virtio-net-device,netdev=n0"
	console=ttyAMA0
	;;
*)
	echo "mkimage: TARGET=$target: no qemu-system image (mipsel armhf)" >&2
	exit 2
	;;
esac
ipk=$b/lure_$version-1_$ipkarch.ipk
[ -f "$ipk" ] || {
	echo "mkimage: $ipk missing (make ipk TARGET=$target)" >&2
	exit 2
}

# --- Debian packages for $arch: kernel and busybox-static ------------------
apt=$cache/apt-$arch
debs=$cache/debs-$arch
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs"
set -- -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
	-o Dir::State::status=/dev/null -o APT::Architecture="$arch" \
	-o APT::Architectures="$arch"
[ "$(id -u)" != 0 ] || set -- "$@" -o APT::Sandbox::User=root
if [ ! -f "$apt/.updated" ] || [ -n "$(find "$apt/.updated" -mmin +1440)" ]; then
	# a failing index (mirror sync) is tolerated: the check below decides
	apt-get "$@" -qq update >&2 || echo "mkimage: apt-get update reported an error; going on" >&2
	touch "$apt/.updated"
fi
kpkg=$(apt-cache "$@" depends "$kmeta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -1)
[ -n "$kpkg" ] || {
	echo "mkimage: no kernel package behind $kmeta for $arch" >&2
	exit 1
}
for p in "$kpkg" busybox-static; do
	ls "$debs/${p}_"*.deb >/dev/null 2>&1 && continue
	(cd "$debs" && apt-get "$@" -qq download "$p" >&2)
done
kdeb=$(find "$debs" -name "${kpkg}_*.deb" | sort | tail -1)
bdeb=$(find "$debs" -name 'busybox-static_*.deb' | sort | tail -1)

# --- the image ---------------------------------------------------------------
out=$b/image
# the work dir stays out of the build dir (its *.d directories would be read as make dependencies)
w=$(mktemp -d "$cache/image-$target.XXXXXX")
trap 'rm -rf "$w"' EXIT
rm -rf "$out"
mkdir -p "$w/k" "$w/bb" "$w/ipk" "$out"
dpkg-deb -x "$kdeb" "$w/k"
dpkg-deb -x "$bdeb" "$w/bb"
(cd "$w/ipk" && tar xzf "$ipk" ./data.tar.gz && mkdir root && tar xzf data.tar.gz -C root)
kver=$(ls "$w/k/lib/modules")
cp "$w/k/boot/vmlinuz-$kver" "$out/vmlinuz"

r=$w/root
cp -a "$w/ipk/root" "$r"
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" \
	"$r/var" "$r/lib/modules" "$r/root"
cp "$w/bb/bin/busybox" "$r/bin/busybox"
for m in $mods; do
	cp "$w/k/lib/modules/$kver/kernel/$m" "$r/lib/modules/"
	basename "$m" >>"$r/lib/modules/order"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/var:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
if [ -n "${IMAGE_UCI:-}" ]; then
	cp "$IMAGE_UCI" "$r/etc/config/lure"
else
	cat >"$r/etc/config/lure" <<EOF
# test firmware: ships to the host's OpenSearch node through the guestfwd
config lure 'main'
	option sensor_id 'qemu-$target'
	list listen '0.0.0.0'
	option port_offset '0'
	option user 'nobody'
	option output '/tmp/lure/events.ndjson'
	option state_file '/etc/lure/state'
	option heartbeat '5'
	option max_conns '128'

config elasticsearch 'es'
	option enabled '1'
	option url 'http://10.0.2.100:9200'
	option index 'lure-vm-%Y.%m.%d'
	option flush_ms '200'
	option retry_max_ms '2000'
EOF
fi
cat >"$r/init" <<'EOF'
#!/bin/busybox sh
# test firmware init: busybox, NIC modules, user-mode network, lure-uci, lure
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /var/etc /tmp/lure
# as /etc/init.d/lure: the state directory, where the default spool is, in RAM
export STATE_DIRECTORY=/tmp/lure
echo "LURE-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m || echo "insmod $m failed"; done
hostname "$(sed -n 's/.*lure.hostname=\([^ ]*\).*/\1/p' /proc/cmdline)"
[ "$(hostname)" != "" ] && [ "$(hostname)" != "(none)" ] || hostname lure-vm
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up || echo "LURE-NO-ETH0"
route add default gw 10.0.2.2
echo "LURE-DATE $(date -u +%Y-%m-%dT%H:%M:%SZ)"
chown nobody /tmp/lure
if /usr/libexec/lure-uci /etc/config/lure "$(hostname)" >/var/etc/lure.json &&
	/usr/sbin/lure -t -c /var/etc/lure.json; then
	echo "LURE-CONFIG-OK"
else
	echo "LURE-CONFIG-FAILED"
fi
(
	while :; do
		echo "LURE-START uptime=$(cut -d' ' -f1 /proc/uptime)"
		/usr/sbin/lure -c /var/etc/lure.json
		echo "LURE-EXIT rc=$?"
		sleep 2
	done
) &
while :; do
	sleep 5
	p=$(pidof lure)
	[ -n "$p" ] && echo "LURE-RSS $(sed -n 's/^VmRSS:[ \t]*//p' /proc/$p/status) MemFree $(sed -n 's/^MemFree:[ \t]*//p' /proc/meminfo)"
done
EOF
chmod 0755 "$r/init"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$out/initramfs.cpio.gz"
cat >"$out/qemu.args" <<EOF
$qemu -kernel $out/vmlinuz -initrd $out/initramfs.cpio.gz -append "console=$console rdinit=/init panic=-1 quiet" -no-reboot -nographic -monitor none
EOF
echo "$kver" >"$out/kernel.version"
rm -rf "$w"
echo "$out"
