# x86_64: static musl binary (Debian's musl-tools), sized for deployment;
# the link writes lure.map for tools/size.sh and tools/floatcheck.sh.
CC = musl-gcc
AR = gcc-ar
OPT = -Os
CFLAGS_TARGET = -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
LDFLAGS_TARGET = -static -Wl,--gc-sections -Wl,-Map=$@.map \
	-Wl,-z,noseparate-code $(LDFLAGS_PACK)
POSTLINK = sh tools/floatcheck.sh $(TARGET) $@ && strip $@
# The data segment right after the code in the file, not at the next 4 KiB
# (up to a page less): no RELRO padding (a static musl binary never applies
# PT_GNU_RELRO: only musl's dynamic linker does) and a small common page
# size, so ld keeps the offset congruent without rounding it up.
LDFLAGS_PACK = -Wl,-z,norelro -Wl,-z,common-page-size=16
# link-time optimisation of lure's own code (the Makefile passes it to the
# compile and the link) and of its TLS libraries (gcc-ar: the archives
# need the LTO plugin's symbol table)
LTO = -flto
LTO_LIBS = $(LTO)
DEPS_TARGET = musl
