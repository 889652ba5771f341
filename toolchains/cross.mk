# cross.mk: the part every cross target shares; toolchains/<target>.mk sets
# TRIPLE (Debian's gcc-<TRIPLE>), TC_CPU (CPU and float ABI, baked into the
# compiler wrapper and into musl), optionally CFLAGS_CPU / LDFLAGS_CPU (code
# generation for lure and its TLS library only), and QEMU (qemu-user, for
# make test-unit, run and test-cross), then includes this. The compiler is
# build/deps/<target>/toolchain/bin/cc, made by toolchains/deps.sh on first
# use: static musl, -Oz, gc-sections, no unwind tables, checked for floating
# point (tools/floatcheck.sh), stripped.
TC_DIR = build/deps/$(TARGET)/toolchain
CC = $(abspath $(TC_DIR))/bin/cc
# gcc-ar: an archive of LTO objects needs the plugin's symbol table
AR = $(TRIPLE)-gcc-ar
OBJDUMP = $(TRIPLE)-objdump
NM = $(TRIPLE)-nm
# -Oz (GCC 12): 3-4 KB less than -Os on x86_64 for the same instruction
# count per HTTP request (callgrind, 2026-12-07)
OPT = -Oz
STRIP = $(TRIPLE)-strip
CFLAGS_TARGET = -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables $(CFLAGS_CPU)
# the map (BINARY.map) feeds tools/floatcheck.sh and tools/size.sh
LDFLAGS_TARGET = -static -Wl,--gc-sections -Wl,-Map=$@.map \
	-Wl,-z,noseparate-code $(LDFLAGS_PACK) $(LDFLAGS_CPU)
# after the link of build/<target>-<persona>/lure: no floating point (the
# symbols tell objdump which code is MIPS16), then stripped, and its
# section headers dropped (tools/noshdr.sh: ~1 KB)
POSTLINK = sh tools/floatcheck.sh $(TARGET) $@ && $(STRIP) $@ && sh tools/noshdr.sh $@
# The data segment right after the code in the file, not at the next 4 KiB
# (up to a page less): no RELRO padding (a static musl binary never applies
# PT_GNU_RELRO: only musl's dynamic linker does) and a small common page
# size, so ld keeps the offset congruent without rounding it up.
LDFLAGS_PACK = -Wl,-z,norelro -Wl,-z,common-page-size=16 $(LDFLAGS_SHRINK)
# At the link only (the libraries' builds keep their flags): input sections
# sorted by alignment, less padding between them (x86_64 generic: 80 B).
# Not -fipa-pta (LTO's points-to analysis, 300 B more): BearSSL's MD5 came
# out wrong with it on x86_64 (test_tlshello's JA3, 2026-12-08).
LDFLAGS_SHRINK = -Wl,--sort-section=alignment
# link-time optimisation of lure's own code (the Makefile passes it to the
# compile and the link)
LTO = -flto -flto-partition=one
# the TLS libraries too (toolchains/tls.mk), but not on MIPS: mbedTLS's
# bignum.o must stay MIPS32 (its assembly) while the link compiles MIPS16
LTO_LIBS ?= $(LTO)
TOOLCHAIN_STAMP = $(TC_DIR)/.stamp

# deps.sh runs on every make (a hash compare when nothing changed) and
# rewrites the stamp only after a rebuild.
$(TOOLCHAIN_STAMP): toolchain-always
	@sh toolchains/deps.sh toolchain $(TARGET) $(TRIPLE) "$(TC_CPU)"
toolchain-always:
.PHONY: toolchain-always
# a rule here must not become the Makefile's default goal
.DEFAULT_GOAL :=
