# x86_64: static musl binary, sized for deployment. Its musl is Debian's
# (the source of the musl-tools package, 1.2.3) built by toolchains/deps.sh
# into build/deps/x86_64/toolchain as for the cross targets: -Os with
# function sections, behind a wrapper of Debian's gcc (x86_64-linux-gnu-gcc,
# -fno-pie: a static ET_EXEC needs no position-independent code). musl-tools'
# own libc.a is built -O2 without function sections: 11 KB more in generic.
# Building it costs ~30 s once (cached like the cross toolchains). The link
# writes lure.map for tools/size.sh and tools/floatcheck.sh (cross.mk).
TRIPLE = x86_64-linux-gnu
TC_CPU =
# switch statements as compare chains, not 8-byte jump tables: 0.8 KB less
# for +0.3% instructions per HTTP request (callgrind, 2026-12-07); arrays
# aligned as the psABI asks (16 bytes from 16 up), not gcc's default 32
# from 32 up: 0.9 KB less padding in .rodata with mbedTLS, 1.1 KB with
# BearSSL (2026-12-08)
CFLAGS_CPU = -fno-jump-tables -malign-data=abi
include toolchains/cross.mk
