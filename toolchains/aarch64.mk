# aarch64: OpenWrt aarch64_cortex-a53 / aarch64_generic (filogic, mvebu,
# bcm27xx...), ARM64 VPSes. 4 KiB page alignment halves a static binary.
TRIPLE = aarch64-linux-gnu
TC_CPU = -mcpu=cortex-a53
LDFLAGS_CPU = -Wl,-z,max-page-size=4096
QEMU = qemu-aarch64-static
include toolchains/cross.mk
