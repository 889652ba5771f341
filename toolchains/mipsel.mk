# mipsel: OpenWrt ramips mipsel_24kc (MT7621, MT7628...). Soft-float: the
# kernel has no FPU emulator, so an FPU instruction is SIGILL; musl and
# gcc's soft-fp helpers are built soft-float (toolchains/deps.sh), and
# tools/floatcheck.sh fails the build on any FPU instruction.
TRIPLE = mipsel-linux-gnu
TC_CPU = -march=24kc -msoft-float
# MIPS16e (OpenWrt's USE_MIPS16: every 24Kc/74Kc/1004Kc has it) and no
# PIC code: a fifth smaller; mbedTLS's bignum stays MIPS32 (its assembly)
CFLAGS_CPU = -mips16 -minterlink-compressed -mno-abicalls -fno-pic
QEMU = qemu-mipsel-static
LTO_LIBS =
include toolchains/cross.mk
