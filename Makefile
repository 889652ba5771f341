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

B ?= build/$(TARGET)-$(PERSONA)$(if $(filter none,$(TLS)),-notls)$(if $(filter 1,$(SAN)),-san)

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
	src/persona.c src/identity.c src/emu_registry.c $(foreach e,$(EMUS),emu/$(e).c)
CORE_SRC = src/config.c src/conn.c src/loop.c src/out_file.c src/resolve.c \
	src/spool.c src/ship.c $(TLS_SRC) platform/linux.c
EMU_OBJ = $(patsubst %.c,$(B)/%.o,$(EMU_SRC)) $(B)/persona_data.o
LIB_OBJ = $(EMU_OBJ) $(patsubst %.c,$(B)/%.o,$(CORE_SRC))
OBJ = $(LIB_OBJ) $(B)/src/main.o
TEST_OBJ = $(B)/test/harness.o

.PHONY: fuzz-build all run test test-unit test-emu test-it test-ship test-prop test-san fuzz bench size fmt lint clean deps transcripts-update

# --- settings stamp: a change of build variables rebuilds everything ------
SETTINGS = $(TARGET) $(PERSONA) $(TLS) $(EMUS) $(SAN) $(CC) $(CFLAGS) $(VERSION)
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

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- running ---------------------------------------------------------------
CONFIG ?= etc/lure.json
run: $(B)/lure
	$(B)/lure -c $(CONFIG) $(if $(ES),-e '$(ES)')

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

test-unit: $(B)/unit
	$(B)/unit

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

test: test-unit test-emu test-it test-tls test-ship test-ship-es7

test-san:
	$(MAKE) SAN=1 test

# --- fuzzing (clang libFuzzer), benchmarks, size -----------------------------
# make fuzz: every target for FUZZ_SECONDS each (build/fuzz-<persona>/).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = config json ship $(addprefix emu_,$(EMUS))
$(B)/fuzz_emu_%: test/fuzz/fuzz_emu.c $(EMU_OBJ) $(TEST_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -DFUZZ_EMU='"$*"' -o $@ $^ $(ALL_LDFLAGS)
$(B)/fuzz_config: test/fuzz/fuzz_config.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/fuzz_ship: test/fuzz/fuzz_ship.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/fuzz_json: test/fuzz/fuzz_json.c $(B)/src/json.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
fuzz-build: $(addprefix $(B)/fuzz_,$(FUZZ_TARGETS))
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

size:
	sh tools/deps.sh size
	$(MAKE) TARGET=x86_64 PERSONA=$(PERSONA)
	@sh tools/size.sh build/x86_64-$(PERSONA)

# --- hygiene ---------------------------------------------------------------
FMT_FILES = $(wildcard src/*.[ch] emu/*.c platform/*.[ch] tools/*.c test/*.[ch] test/*/*.[ch])
fmt:
	clang-format -i $(FMT_FILES)
lint:
	sh tools/lint.sh $(FMT_FILES)

clean:
	rm -rf build
