# armhf: OpenWrt arm_cortex-a7_neon-vfpv4 (ipq40xx, sunxi, mt7623...):
# ARMv7 hard-float, Thumb-2 (a quarter smaller than ARM code).
TRIPLE = arm-linux-gnueabihf
TC_CPU = -mcpu=cortex-a7 -mfpu=neon-vfpv4 -mfloat-abi=hard -mthumb
QEMU = qemu-arm-static
include toolchains/cross.mk
