# x86_64: static musl binary (Debian's musl-tools), sized for deployment;
# the link writes lure.map for tools/size.sh and tools/floatcheck.sh.
CC = musl-gcc
AR = ar
OPT = -Os
CFLAGS_TARGET = -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
LDFLAGS_TARGET = -static -Wl,--gc-sections -Wl,-Map=$@.map \
	-Wl,-z,noseparate-code
POSTLINK = sh tools/floatcheck.sh $(TARGET) $@ && strip $@
DEPS_TARGET = musl
