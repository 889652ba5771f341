# x86_64: static musl binary (Debian's musl-tools), sized for deployment.
CC = musl-gcc
OPT = -Os
CFLAGS_TARGET = -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
LDFLAGS_TARGET = -static -Wl,--gc-sections -s
DEPS_TARGET = musl
