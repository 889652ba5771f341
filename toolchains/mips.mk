# mips: OpenWrt ath79 mips_24kc (big-endian; most TP-Link, Ubiquiti...).
# Soft-float as mipsel.mk: no FPU instruction may reach the binary.
TRIPLE = mips-linux-gnu
TC_CPU = -march=24kc -msoft-float
# MIPS16e (OpenWrt's USE_MIPS16: every 24Kc/74Kc/1004Kc has it) and no
# PIC code: a fifth smaller; mbedTLS's bignum stays MIPS32 (its assembly)
CFLAGS_CPU = -mips16 -minterlink-compressed -mno-abicalls -fno-pic
QEMU = qemu-mips-static
LTO_LIBS =
include toolchains/cross.mk
