# lure: one non-recursive Makefile. Build variables (see README):
#   TARGET=host|x86_64  PERSONA=<emu/personas/NAME>  TLS=none  EMUS="http ..."
#   SAN=1 (ASan+UBSan)  CONFIG=<file> (for make run)
# Outputs go to build/$(TARGET)-$(PERSONA)[-san]/ and are rebuilt when any of
# the build variables change.

TARGET ?= host
PERSONA ?= generic
TLS ?= mbedtls
SAN ?= 0
OPT ?= -O2
CC_SAN = $(CC)

include toolchains/$(TARGET).mk

PDIR := emu/personas/$(PERSONA)
ifeq ($(wildcard $(PDIR)/persona.conf),)
$(error PERSONA=$(PERSONA): no $(PDIR)/persona.conf)
endif
PCONF := $(wildcard $(PDIR)/*.conf)
EMUS ?= $(shell awk '$$1 == "port" { print $$4 }' $(PCONF) | sort -u)

B ?= build/$(TARGET)-$(PERSONA)$(if $(filter none,$(TLS)),-notls)$(if $(filter bearssl,$(TLS)),-bearssl)$(if $(filter 1,$(SAN)),-san)

all: $(B)/lure
include toolchains/tls.mk
include test/es/es.mk
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN = -Wall -Wextra -Werror -Wundef -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= $(OPT) -g
SAN_ON = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SANFLAGS = $(if $(filter 1,$(SAN)),$(SAN_ON))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(CFLAGS_TARGET) $(SANFLAGS) \
	-Isrc -Iplatform -Itest -I$(B) -I$(B)/include -DLURE_VERSION='"$(VERSION)"' \
	-DLURE_PERSONA='"$(PERSONA)"' -DLURE_TLS='"$(TLS)"' $(TLS_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(LDFLAGS_TARGET) $(SANFLAGS)

# EMU_OBJ: what emulators need (transcripts, fuzzers); CORE_OBJ: the daemon.
EMU_SRC = src/lure.c src/json.c src/event.c src/outbox.c src/emu_ctx.c \
	src/persona.c src/identity.c src/emu_registry.c src/hash.c src/rules.c \
	src/indicators.c src/shell.c $(foreach e,$(EMUS),emu/$(e).c)
CORE_SRC = src/config.c src/conn.c src/loop.c src/out_file.c src/resolve.c \
	src/spool.c src/ship.c $(TLS_SRC) platform/linux.c \
	src/tlshello.c src/certgen.c
EMU_OBJ = $(patsubst %.c,$(B)/%.o,$(EMU_SRC)) $(B)/persona_data.o
LIB_OBJ = $(EMU_OBJ) $(patsubst %.c,$(B)/%.o,$(CORE_SRC))
OBJ = $(LIB_OBJ) $(B)/src/main.o
TEST_OBJ = $(B)/test/harness.o

# --- SSH (emu/ssh.c): src/sshkex.c and src/sntrup761.c, with mbedTLS
# whatever TLS is, and libsodium (Ed25519) built by toolchains/deps.sh
SODIUM_DIR = build/deps/$(TARGET)/libsodium
SODIUM_STAMP = $(SODIUM_DIR)/.stamp
SSH_LIBS = $(TLS_MBEDTLS_LIBS) -L$(SODIUM_DIR)/lib -lsodium
SSH_OBJ = $(B)/emu/ssh.o $(B)/src/sshkex.o $(B)/src/sntrup761.o \
	$(B)/test/unit/test_sshkex.o
$(SSH_OBJ): ALL_CFLAGS += $(TLS_MBEDTLS_CFLAGS) -isystem $(SODIUM_DIR)/include
$(SSH_OBJ): $(TLS_MBEDTLS_STAMP) $(SODIUM_STAMP)
ifneq ($(filter ssh,$(EMUS)),)
EMU_SRC += src/sshkex.c src/sntrup761.c src/sshzlib.c
ALL_LDFLAGS += $(SSH_LIBS)
endif
$(SODIUM_STAMP): tls-always $(TOOLCHAIN_STAMP)
	@sh toolchains/deps.sh libsodium $(TARGET) "$(CC)" "$(AR)" \
		"$(OPT) $(CFLAGS_TARGET)"
# --- end SSH ---


.PHONY: test-cross test-persona fuzz-build all run test test-unit test-emu test-it test-ship test-prop test-san fuzz bench size fmt lint clean deps transcripts-update

# --- settings stamp: a change of build variables rebuilds everything ------
SETTINGS = $(TARGET) $(PERSONA) $(TLS) $(EMUS) $(SAN) $(CC) $(CFLAGS) $(CFLAGS_TARGET) $(VERSION)
$(B)/.settings: FORCE
	@mkdir -p $(B)
	@echo '$(SETTINGS)' | cmp -s - $@ || echo '$(SETTINGS)' > $@
FORCE:

$(B)/include/jsmn.h:
	@mkdir -p $(@D)
	@test -f /usr/include/jsmn.h || sh tools/deps.sh build
	cp /usr/include/jsmn.h $@

$(B)/emu_list.h: $(B)/.settings
	@for e in $(EMUS); do \
		test -f emu/$$e.c || { echo "EMUS: no emulator emu/$$e.c" >&2; exit 2; }; \
		echo "EMU($$e)"; done > $@

$(B)/mkpersona: tools/mkpersona.c
	@mkdir -p $(@D)
	cc -O1 -Wall -Wextra -Werror -o $@ $<

$(B)/persona_data.c: $(B)/mkpersona $(PCONF) $(shell find $(PDIR)/files -type f 2>/dev/null) $(B)/.settings
	$(B)/mkpersona $(PDIR) $(PERSONA) > $@.tmp && mv $@.tmp $@

# V=1 shows the full compiler command lines
Q = $(if $(filter 1,$(V)),,@)
$(B)/%.o: %.c $(B)/.settings $(B)/include/jsmn.h $(B)/emu_list.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/%.o: $(B)/%.c $(B)/.settings
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/lure: $(OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -o $@ $(OBJ) $(ALL_LDFLAGS) $(TLS_LIBS)
	$(if $(POSTLINK),$(Q)$(POSTLINK) || { rm -f $@; exit 1; })

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- running ---------------------------------------------------------------
CONFIG ?= etc/lure.json
run: $(B)/lure
	$(QEMU) $(B)/lure -c $(CONFIG) $(if $(ES),-e '$(ES)')

# --- tests -----------------------------------------------------------------
UNIT_SRC = $(wildcard test/unit/*.c)
$(B)/unit_list.h: $(B)/.settings $(UNIT_SRC)
	@for f in $(sort $(filter test/unit/test_%,$(UNIT_SRC))); do \
		n=$${f#test/unit/test_}; echo "SUITE($${n%.c})"; done > $@
$(B)/test/unit/main.o: $(B)/unit_list.h
$(B)/unit: $(patsubst %.c,$(B)/%.o,$(UNIT_SRC)) $(LIB_OBJ) $(TEST_OBJ)
	$(CC) -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/transcript: $(B)/test/emu/transcript.o $(EMU_OBJ) $(TEST_OBJ)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)
$(B)/propdrive: $(B)/test/prop/propdrive.o $(EMU_OBJ) $(TEST_OBJ)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

# QEMU: qemu-user for a cross TARGET (toolchains/<target>.mk), else empty
test-unit: $(B)/unit
	@sh tools/deps.sh unit
	$(QEMU) $(B)/unit

test-emu: $(B)/transcript
	sh test/emu/run.sh $(B)/transcript $(PERSONA)

transcripts-update: $(B)/transcript
	UPDATE=1 sh test/emu/run.sh $(B)/transcript $(PERSONA)

test-it: $(B)/lure $(B)/propdrive
	sh tools/deps.sh test
	LURE_BIN=$(B)/lure LURE_PROPDRIVE=$(B)/propdrive LURE_PERSONA=$(PERSONA) \
		python3 -m pytest -q test/it test/prop

# the shipping suites: the OpenSearch rig itself, then lure against it
test-ship: $(B)/lure
	sh tools/deps.sh test
	LURE_BIN=$(B)/lure python3 -m pytest -q test/es test/ship

# the persona suites: each persona built, its transcripts, then real clients
# (nmap -sV, curl, ffprobe...) against it (test/persona)
PERSONAS_TESTED = hikvision linux dropbear-debian openwrt
test-persona:
	sh tools/deps.sh persona
	sh tools/nmapdb.sh build/deps/nmap-db
	@for p in $(PERSONAS_TESTED); do \
		$(MAKE) PERSONA=$$p build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san)/lure \
			B=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san) && \
		$(MAKE) PERSONA=$$p test-emu B=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san) && \
		LURE_BIN=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san)/lure LURE_PERSONA=$$p \
			LURE_NMAP_DB=build/deps/nmap-db \
			python3 -m pytest -q test/persona || exit 1; done

test: test-unit test-emu test-it test-persona test-tls test-ship test-ship-es7 test-deploy

# the suites that run lure's own code, again under ASan+UBSan (not the
# Elasticsearch 7 rerun, the valgrind check or the deployment tests: they
# add no coverage of lure's code under the sanitizers)
test-san:
	$(MAKE) SAN=1 test-unit test-emu test-it test-persona test-tls test-ship

# --- fuzzing (clang libFuzzer), benchmarks, size -----------------------------
# make fuzz: every target for FUZZ_SECONDS each (build/fuzz-<persona>/).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = config json ship tlshello $(addprefix emu_,$(EMUS))
$(B)/fuzz_emu_%: test/fuzz/fuzz_emu.c $(EMU_OBJ) $(TEST_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -DFUZZ_EMU='"$*"' -o $@ $^ $(ALL_LDFLAGS)
$(B)/fuzz_config: test/fuzz/fuzz_config.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/fuzz_ship: test/fuzz/fuzz_ship.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
# tlshello: the ClientHello parser and JA3/JA4 (hashes from the TLS backend)
$(B)/fuzz_tlshello: test/fuzz/fuzz_tlshello.c $(B)/src/tlshello.o $(patsubst %.c,$(B)/%.o,$(TLS_SRC))
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/fuzz_json: test/fuzz/fuzz_json.c $(B)/src/json.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# exploit rules and the indicator extractor (src/rules.c, src/indicators.c)
FUZZ_TARGETS += rules indicators
$(B)/fuzz_rules: test/fuzz/fuzz_rules.c $(B)/src/rules.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
$(B)/fuzz_indicators: test/fuzz/fuzz_indicators.c $(EMU_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the BearSSL backend's parsers (CA file, subjectAltName), whatever TLS is
FUZZ_TARGETS += bearssl
$(B)/fuzz_bearssl: test/fuzz/fuzz_bearssl.c src/tls_bearssl.c \
		$(TLS_BEARSSL_STAMP) $(B)/.settings
	$(CC) $(ALL_CFLAGS) $(TLS_BEARSSL_CFLAGS) -fsanitize=fuzzer -o $@ \
		test/fuzz/fuzz_bearssl.c $(ALL_LDFLAGS) $(TLS_BEARSSL_LIBS)
# zlib@openssh.com's inflater (src/sshzlib.c), whatever the persona
FUZZ_TARGETS += sshzlib
$(B)/fuzz_sshzlib: test/fuzz/fuzz_sshzlib.c $(B)/src/sshzlib.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the fake shell of SSH and Telnet sessions (src/shell.c)
FUZZ_TARGETS += shell
$(B)/fuzz_shell: test/fuzz/fuzz_shell.c $(EMU_OBJ) $(TEST_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
fuzz-build: $(addprefix $(B)/fuzz_,$(FUZZ_TARGETS))
# sntrup761 (the KEM of sntrup761x25519-sha512 for the SSH emulator; not in
# lure yet): unit suite, fuzz target and constant-time check, with SHA-512
# from mbedTLS whatever TLS is.
SNTRUP_OBJ = $(B)/src/sntrup761.o
$(SNTRUP_OBJ) $(B)/test/unit/test_sntrup761.o: ALL_CFLAGS += $(TLS_MBEDTLS_CFLAGS)
$(SNTRUP_OBJ) $(B)/test/unit/test_sntrup761.o: $(TLS_MBEDTLS_STAMP)
$(B)/unit: $(SNTRUP_OBJ)
$(B)/unit: TLS_LIBS += $(TLS_MBEDTLS_LIBS)
# the SSH helpers' unit suite (test_sshkex.c) whatever the persona
$(B)/unit: $(B)/src/sshkex.o $(B)/src/sshzlib.o
$(B)/unit: TLS_LIBS += $(SSH_LIBS)
$(B)/fuzz_sntrup761: test/fuzz/fuzz_sntrup761.c $(SNTRUP_OBJ)
	$(CC) $(ALL_CFLAGS) $(TLS_MBEDTLS_CFLAGS) -fsanitize=fuzzer -o $@ $^ \
		$(ALL_LDFLAGS) $(TLS_MBEDTLS_LIBS)
FUZZ_TARGETS += sntrup761
fuzz-build: $(B)/fuzz_sntrup761
# valgrind memcheck reports any branch or memory index on the secrets (the
# -O2 code of a native build; not under SAN, not for cross targets)
$(B)/ct_sntrup761: src/sntrup761.c src/sntrup761.h test/unit/test_sntrup761.c \
		$(B)/.settings $(TLS_MBEDTLS_STAMP)
	sh tools/deps.sh ct
	$(CC) $(ALL_CFLAGS) $(TLS_MBEDTLS_CFLAGS) -DSNTRUP761_CT=1 \
		-include valgrind/memcheck.h \
		-DSNTRUP761_DECLASSIFY=VALGRIND_MAKE_MEM_DEFINED -o $@ \
		src/sntrup761.c test/unit/test_sntrup761.c $(ALL_LDFLAGS) \
		$(TLS_MBEDTLS_LIBS)
ifeq ($(SAN)$(TARGET),0host)
test-ct-sntrup761: $(B)/ct_sntrup761
	valgrind -q --error-exitcode=1 $(B)/ct_sntrup761
else
test-ct-sntrup761:
	@echo "test-ct-sntrup761: skipped (valgrind: TARGET=host SAN=0 only)"
endif
test: test-ct-sntrup761
.PHONY: test-ct-sntrup761

fuzz:
	sh tools/deps.sh fuzz
	$(MAKE) CC=clang SAN=1 CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' \
		B=build/fuzz-$(PERSONA) fuzz-build
	sh test/fuzz/run.sh build/fuzz-$(PERSONA) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make bench: the static x86_64 binary (what is deployed) against nginx, then
# the shipper against rsyslog's omelasticsearch
bench:
	sh tools/deps.sh bench
	sh tools/deps.sh size
	$(MAKE) TARGET=x86_64 PERSONA=$(PERSONA)
	sh test/bench/run.sh build/x86_64-$(PERSONA)/lure
	@if [ -f test/bench/ship.sh ]; then sh test/bench/ship.sh; fi

# make size: the static binary of every cross target with each TLS backend
# (toolchains/*.mk; the first build of a target fetches and builds its
# toolchain), then a table against the size goals and the biggest parts
SIZE_TARGETS ?= x86_64 aarch64 armhf mipsel mips
SIZE_TLS ?= mbedtls bearssl
size:
	sh tools/deps.sh size
	@for t in $(SIZE_TARGETS); do for b in $(SIZE_TLS); do \
		$(MAKE) --no-print-directory TARGET=$$t TLS=$$b \
			PERSONA=$(PERSONA) || exit 1; done; done
	@sh tools/size.sh $(foreach t,$(SIZE_TARGETS),$(foreach b,$(SIZE_TLS),\
		build/$(t)-$(PERSONA)$(if $(filter bearssl,$(b)),-bearssl)))

# make test-cross: every target and TLS backend built, its unit tests run
# under qemu-user, the binary started under qemu-user against curl and
# telnet on loopback (test/cross/run.sh)
CROSS_TARGETS ?= x86_64 aarch64 armhf mipsel mips
test-cross:
	sh toolchains/deps.sh cross-test
	sh test/cross/run.sh $(PERSONA) $(CROSS_TARGETS)

# --- hygiene ---------------------------------------------------------------
FMT_FILES = $(wildcard src/*.[ch] emu/*.c platform/*.[ch] tools/*.c test/*.[ch] test/*/*.[ch])
fmt:
	clang-format -i $(FMT_FILES)
lint:
	sh tools/lint.sh $(FMT_FILES)

clean:
	rm -rf build

# --- deploy (issue 7): OpenWrt .ipk, qemu-system images, deployment tests ----
# make ipk TARGET=mipsel     -> $(B)/lure_<version>-1_<openwrt arch>.ipk
# make image TARGET=mipsel   -> $(B)/image/ (vmlinuz, initramfs, qemu.args)
# make test-deploy           systemd unit, Ansible against booted test hosts,
#                            health queries, ipk, qemu boots (test/deploy)
.PHONY: ipk image test-deploy
ipk: $(B)/lure
	@sh fw-images/mkipk.sh $(TARGET) $(B)/lure $(B) $(VERSION)
image: ipk
	@sh tools/deps.sh deploy
	@sh fw-images/mkimage.sh $(TARGET) $(B) $(VERSION)
# (static musl builds only: under SAN=1, as in make test-san, there is nothing to add)
test-deploy:
ifeq ($(SAN),1)
	@echo "test-deploy: skipped with SAN=1 (deploys static musl builds)"
else
	sh tools/deps.sh deploy
	$(MAKE) TARGET=x86_64 PERSONA=generic B=build/x86_64-generic TLS=mbedtls
	python3 -m pytest -q test/deploy
endif
# --- end deploy ----------------------------------------------------------------
