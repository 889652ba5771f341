# lure: one non-recursive Makefile. Build variables (see README):
#   TARGET=host|x86_64  PERSONA=<emu/personas/NAME>  TLS=none  EMUS="http ..."
#   SAN=1 (ASan+UBSan)  POLLER=poll  CONFIG=<file> (for make run)
# Outputs go to build/$(TARGET)-$(PERSONA)[-san]/ and are rebuilt when any of
# the build variables change.

TARGET ?= host
PERSONA ?= generic
TLS ?= mbedtls
# the loop's readiness backend (src/poller.h): epoll (Linux: every TARGET),
# or poll
POLLER ?= epoll
SAN ?= 0
OPT ?= -O2
CC_SAN = $(CC)
# the compiler of the third-party libraries (make fuzz: the host build's,
# not clang, so that they are built once)
DEPS_CC = $(CC)

include toolchains/$(TARGET).mk

PDIR := emu/personas/$(PERSONA)
ifeq ($(wildcard $(PDIR)/persona.conf),)
$(error PERSONA=$(PERSONA): no $(PDIR)/persona.conf)
endif
PCONF := $(wildcard $(PDIR)/*.conf)
EMUS ?= $(shell awk '$$1 == "port" { print $$4 }' $(PCONF) | sort -u)

B ?= build/$(TARGET)-$(PERSONA)$(if $(filter none,$(TLS)),-notls)$(if $(filter bearssl,$(TLS)),-bearssl)$(if $(filter 1,$(SAN)),-san)$(if $(filter poll,$(POLLER)),-poll)
# TLS_SERVER=1 when a persona port is marked tls or starttls (src/conn_tls.c,
# src/certgen.c, src/tlshello.c serve it); 0 compiles their calls out, and
# the mbedTLS of a persona with no SSH either is the client-only library
# (toolchains/tls.mk)
TLS_SERVER := $(if $(shell awk '$$1 == "port" && ($$5 == "tls" || $$5 == "starttls")' $(PCONF)),1,0)
# CATCHALL=0: no catch-all listener nor PROXY protocol (src/sniff.h). Off
# for the generic persona on the release TARGETs whose size budget it does
# not fit (x86_64: +9.7 KB, the ClientHello parser comes with it; aarch64,
# armhf); on elsewhere (host builds, mips/mipsel, personas with a TLS
# server, which parse ClientHellos anyway)
CATCHALL ?= $(if $(filter generic,$(PERSONA)),$(if $(filter host mips mipsel,$(TARGET)),1,0),1)
# SHELL_LANG=0: the fake shell without its language beyond words and
# commands (variables, $((...)), test, if/for/while: src/shell_lang.c) nor
# the persona's shell_lang.conf (the keys only it reads). Off for the
# generic persona on x86_64 only, whose size budget it does not fit (+5.8
# KB); on elsewhere
SHELL_LANG ?= $(if $(filter generic,$(PERSONA)),$(if $(filter x86_64,$(TARGET)),0,1),1)
# bash's brace expansion is compiled in for the personas that ask for it
# (shell.brace in their shell_lang.conf: the bash ones), not for ash's
SHELL_BRACE := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.brace' \
	$(PDIR)/shell_lang.conf && echo 1),)
# and GNU coreutils' ways (ls -l's columns and -h, dd's third line) for
# those that set shell.gnu, not for BusyBox's
SHELL_GNU := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.gnu' \
	$(PDIR)/shell_lang.conf && echo 1),)
# devices that read (shell.dev_zero, shell.dev_random: and dd's units)
SHELL_DEVS := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.dev_zero' \
	$(PDIR)/shell_lang.conf && echo 1),)
# and files made when read (shell.file_tmpl: /etc/shadow's hashes,
# /proc/uptime) for those that list some
SHELL_FTMPL := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.file_tmpl' \
	$(PDIR)/shell_lang.conf && echo 1),)
# and the environment (shell.env: env, printenv, export's list) for those
# that describe it
SHELL_ENV := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.env' \
	$(PDIR)/shell_lang.conf && echo 1),)
EMU_SRC_ENV = $(if $(filter 1,$(SHELL_ENV)),src/shell_env.c)
# and symbolic links in ls -l (shell.symlink) for those that list some
SHELL_LINKS := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.symlink' \
	$(PDIR)/shell_lang.conf && echo 1),)
# and programs' fixed answers (shell.out) for those that have some
SHELL_OUTS := $(if $(filter 1,$(SHELL_LANG)),$(shell grep -qs '^shell\.out' \
	$(PDIR)/shell_lang.conf && echo 1),)

all: $(B)/lure
# a TARGET whose compiler is a Debian package gets it from tools/deps.sh
# before anything is built with it, the TLS libraries included (x86_64 and
# the cross TARGETs build their own musl toolchain: cross.mk)
ifeq ($(TOOLCHAIN_STAMP)$(filter host,$(TARGET)),)
TOOLCHAIN_STAMP = build/deps/$(TARGET)/.packages
$(TOOLCHAIN_STAMP): FORCE
	@sh tools/deps.sh $(TARGET)
	@test -f $@ || { mkdir -p $(@D) && touch $@; }
endif
include toolchains/tls.mk
include test/es/es.mk
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN = -Wall -Wextra -Werror -Wundef -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= $(OPT) -g
SAN_ON = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SANFLAGS = $(if $(filter 1,$(SAN)),$(SAN_ON))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(CFLAGS_TARGET) $(SANFLAGS) \
	-Isrc -Iplatform -Itest -I$(B) -I$(B)/include -DLURE_VERSION='"$(VERSION)"' \
	-DLURE_PERSONA='"$(PERSONA)"' -DLURE_TLS='"$(TLS)"' \
	-DLURE_TLS_SERVER=$(TLS_SERVER) -DLURE_EMU_TLS=$(EMU_TLS) -DLURE_SCAN=$(SCAN) \
	-DLURE_CATCHALL=$(CATCHALL) -DLURE_SIDE=$(SIDE) -DLURE_SHELL_LANG=$(SHELL_LANG) -DLURE_SHELL_BRACE=0$(SHELL_BRACE) -DLURE_SHELL_GNU=0$(SHELL_GNU) \
	-DLURE_SHELL_OUTS=0$(SHELL_OUTS) -DLURE_SHELL_DEVS=0$(SHELL_DEVS) \
	-DLURE_PWHASH=$(PWHASH) -DLURE_SHELL_FTMPL=0$(SHELL_FTMPL) \
	-DLURE_SHELL_ENV=0$(SHELL_ENV) -DLURE_SHELL_LINKS=0$(SHELL_LINKS) \
	$(TLS_CFLAGS) $(LTO)
# LTO (release builds: toolchains/cross.mk, x86_64.mk): the link compiles
# again, with the same code generation flags (and, with LTO_LIBS, the TLS
# library: TLS_LTO_LDFLAGS in toolchains/tls.mk)
ALL_LDFLAGS = $(LDFLAGS) $(LDFLAGS_TARGET) $(SANFLAGS) \
	$(if $(LTO),$(LTO) $(OPT) $(CFLAGS_TARGET)) $(TLS_LTO_LDFLAGS)

# EMU_OBJ: what emulators need (transcripts, fuzzers); CORE_OBJ: the daemon.
EMU_SRC = src/lure.c src/fmt.c src/json.c src/event.c src/outbox.c src/emu_ctx.c \
	src/persona.c src/identity.c src/fdio.c src/emu_registry.c src/hash.c src/rules.c \
	src/indicators.c src/shell.c src/shell_fs.c src/shell_cmd.c src/shell_lang.c src/shell_awk.c \
	src/shell_file.c src/shell_parse.c $(EMU_SRC_ENV) $(foreach e,$(EMUS),emu/$(e).c)
CORE_SRC = src/admit.c src/config.c src/conn.c src/loop.c src/out_file.c src/resolve.c \
	src/spool.c src/ship.c $(TLS_SRC) platform/linux.c \
	src/tlshello.c src/certgen.c src/conn_tls.c src/udpguard.c \
	src/proxyproto.c src/sniff.c
# the loop's readiness backend (src/poller_$(POLLER).c) and its timers
CORE_SRC += src/poller.c src/poller_$(POLLER).c
# scanner tool and OS fingerprints of captured packets (issue 13)
CORE_SRC += src/scanfp.c
# data channels (src/conn_side.h: FTP's passive mode) for the personas
# whose emulators open them
SIDE := $(if $(filter ftp,$(EMUS)),1,0)
# TLS inside an emulator's framing (src/emu_tls.c: TDS's PRELOGIN)
EMU_TLS := $(if $(filter tds,$(EMUS)),1,0)
CORE_SRC += $(if $(filter 1,$(EMU_TLS)),src/emu_tls.c)
CORE_SRC += $(if $(filter 1,$(SIDE)),src/conn_side.c)
# scan observation: packet sockets and the frame parser (issue 13);
# SCAN=0 leaves them out (scan.enabled is then refused at start)
SCAN ?= 1
CORE_SRC += $(if $(filter 1,$(SCAN)),src/scan.c src/scanpkt.c)
# the frame parser's unit tests (test_scanpkt.c) whatever SCAN is
$(B)/unit: $(B)/src/scanpkt.o
EMU_OBJ = $(patsubst %.c,$(B)/%.o,$(EMU_SRC)) $(B)/persona_data.o
LIB_OBJ = $(EMU_OBJ) $(patsubst %.c,$(B)/%.o,$(CORE_SRC))
OBJ = $(LIB_OBJ) $(B)/src/main.o
# the daemon: OBJ, with TLS_LURE_OBJ for the TLS backend's object when
# toolchains/tls.mk sets it (the client-only mbedTLS)
LURE_OBJ = $(if $(TLS_LURE_OBJ),$(filter-out $(patsubst %.c,$(B)/%.o,$(TLS_SRC)),$(OBJ)) $(TLS_LURE_OBJ),$(OBJ))
TEST_OBJ = $(B)/test/harness.o

# the pty line editor of telnet and SSH sessions (src/lineedit.c)
ifneq ($(filter telnet ssh,$(EMUS)),)
EMU_SRC += src/lineedit.c
endif
$(B)/unit: $(B)/src/lineedit.o

# nginx's request parsers (src/httpparse.c) and Digest authentication
# (src/digest.c, also Basic), for the http and rtsp emulators; HTTP
# responses (src/httpresp.c), byte ranges (src/httprange.c) and ONVIF's
# WS-Security token (src/wsse.c) for http
EMU_SRC += src/httpparse.c src/digest.c src/httpresp.c src/httprange.c src/wsse.c

# Redis requests (src/resp.c) for the redis emulator
ifneq ($(filter redis,$(EMUS)),)
EMU_SRC += src/resp.c
endif

# NTLMSSP's server side (src/ntlm.c) for the emulators that take an NTLM
# login: smb, rdp (CredSSP), tds (SSPI)
NTLM := $(if $(filter smb rdp tds,$(EMUS)),1,0)
EMU_SRC += $(if $(filter 1,$(NTLM)),src/ntlm.c)

# crypt(3) hashes for identity templates ({md5crypt:PW}, {sha512crypt:PW}:
# src/pwhash.c, SHA-512 from the mbedTLS that SSH links) for the personas
# whose data use them; the unit tests link it whatever the persona
PWHASH := $(if $(shell grep -qs '{[a-z0-9]*crypt:' $(PCONF) && echo 1),1,0)
$(if $(filter 1,$(PWHASH)),$(if $(filter ssh,$(EMUS)),,$(error PWHASH: \
	{*crypt:} templates need the ssh emulator's mbedTLS)))
EMU_SRC += $(if $(filter 1,$(PWHASH)),src/pwhash.c)
$(B)/unit: $(B)/src/pwhash.o
$(B)/src/pwhash.o: ALL_CFLAGS += $(TLS_MBEDTLS_CFLAGS)
$(B)/src/pwhash.o: $(TLS_MBEDTLS_STAMP)

# DES (src/des.c) for the vnc emulator's VNC authentication; the unit
# tests link it whatever the persona
ifneq ($(filter vnc,$(EMUS)),)
EMU_SRC += src/des.c
endif
$(B)/unit: $(B)/src/des.o

# --- SSH (emu/ssh.c): src/ssh{pkt,auth,chan,kex}.c, src/sntrup761.c and
# src/ed25519.c (Ed25519, X25519), with mbedTLS whatever TLS is
SSH_LIBS = $(TLS_MBEDTLS_LIBS)
SSH_OBJ = $(B)/emu/ssh.o $(B)/src/sshpkt.o $(B)/src/sshauth.o \
	$(B)/src/sshchan.o $(B)/src/sshkex.o $(B)/src/sntrup761.o \
	$(B)/src/ed25519.o $(B)/test/unit/test_sshkex.o
$(SSH_OBJ): ALL_CFLAGS += $(TLS_MBEDTLS_CFLAGS)
$(SSH_OBJ): $(TLS_MBEDTLS_STAMP)
ifneq ($(filter ssh,$(EMUS)),)
EMU_SRC += src/sshpkt.c src/sshauth.c src/sshchan.c src/sshkex.c \
	src/sntrup761.c src/sshzlib.c src/ed25519.c src/sshlimit.c
ALL_LDFLAGS += $(SSH_LIBS)
endif
# --- end SSH ---


.PHONY: test-cross test-persona test-scan fuzz-build all run test test-unit test-emu test-it test-ship test-prop test-san fuzz bench size fmt lint clean deps transcripts-update

# --- settings stamp: a change of build variables rebuilds everything ------
SETTINGS = $(TARGET) $(PERSONA) $(TLS) $(POLLER) $(EMUS) $(SAN) $(CC) $(CFLAGS) $(CFLAGS_TARGET) $(LTO) $(LDFLAGS_PACK) $(TLS_SERVER) $(VERSION) $(SCAN) $(CATCHALL) $(SHELL_LANG) $(SHELL_BRACE) $(SHELL_GNU) $(SHELL_OUTS) $(SHELL_DEVS) $(PWHASH) $(SHELL_FTMPL) $(SHELL_ENV) $(SHELL_LINKS)
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

# every key is checked against the "Persona keys" comments of emu/<e>.c and
# of the modules listed in tools/mkpersona.c
PERSONA_KEYS = $(foreach e,$(EMUS),emu/$(e).c) src/persona.h src/identity.h \
	src/shell.c src/certgen.c src/conn_tls.c src/ntlm.c
$(B)/persona_data.c: $(B)/mkpersona $(PCONF) $(shell find $(PDIR)/files -type f 2>/dev/null) $(B)/.settings $(PERSONA_KEYS)
	$(if $(filter 0,$(SHELL_LANG)),MKPERSONA_SKIP=shell_lang.conf) \
		$(B)/mkpersona $(PDIR) $(PERSONA) $(EMUS) > $@.tmp && mv $@.tmp $@

# V=1 shows the full compiler command lines
Q = $(if $(filter 1,$(V)),,@)
$(B)/%.o: %.c $(B)/.settings $(B)/include/jsmn.h $(B)/emu_list.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/%.o: $(B)/%.c $(B)/.settings
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/lure: $(LURE_OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -o $@ $(LURE_OBJ) $(ALL_LDFLAGS) $(or $(TLS_LURE_LIBS),$(TLS_LIBS))
	$(if $(POSTLINK),$(Q)$(POSTLINK) || { rm -f $@; exit 1; })

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- running ---------------------------------------------------------------
CONFIG ?= etc/lure.json
# stdout carries only the events (NDJSON): the build's lines go to stderr
run:
	@$(MAKE) --no-print-directory $(B)/lure >&2
	@$(if $(ES),STATE_DIRECTORY=$${STATE_DIRECTORY:-$(abspath $(B))}) exec $(QEMU) $(B)/lure -c $(CONFIG) $(if $(ES),-e '$(ES)')

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

# pytest suites run in parallel (pytest-xdist, installed by tools/deps.sh
# test): they mostly wait (timeouts, nmap, OpenSearch, containers), so more
# workers than cores. TEST_JOBS=1, or no xdist, runs them one at a time.
TEST_JOBS ?= 4
XDIST = $(if $(filter-out 0 1,$(TEST_JOBS)),$(if $(shell python3 -c \
	'import xdist' 2>/dev/null && echo y),-n $(or $(2),$(TEST_JOBS)) --dist $(1)))
# the persona suites wait longest (failure delays, the daemons' own limits,
# nmap): 6 workers there (the linux persona's: 200 s with 4, 126 s with 6;
# CPU about 15% of the two cores either way), not under the sanitizers
# (their lure takes more CPU)
PERSONA_JOBS ?= $(if $(filter 4,$(TEST_JOBS)),$(if $(filter 1,$(SAN)),4,6),$(TEST_JOBS))
# builds inside test recipes use 2 jobs unless make itself runs with -j
SUBJOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j2)

# QEMU: qemu-user for a cross TARGET (toolchains/<target>.mk), else empty
test-unit: $(B)/unit $(B)/mkpersona
	@sh tools/deps.sh unit
	$(QEMU) $(B)/unit
	sh test/mkpersona/run.sh $(B)/mkpersona

test-emu: $(B)/transcript
	sh test/emu/run.sh $(B)/transcript $(PERSONA)

transcripts-update: $(B)/transcript
	UPDATE=1 sh test/emu/run.sh $(B)/transcript $(PERSONA)

test-it: $(B)/lure $(B)/propdrive
	sh tools/deps.sh test
	LURE_BIN=$(B)/lure LURE_PROPDRIVE=$(B)/propdrive LURE_PERSONA=$(PERSONA) \
		python3 -m pytest -q $(call XDIST,loadfile) test/it test/prop

# scan observation (src/scan.c) against nmap, masscan, zmap and hping3 in
# network namespaces the suite makes (root; skipped otherwise)
test-scan: $(B)/lure
	sh tools/deps.sh scan
	LURE_BIN=$(B)/lure LURE_PERSONA=$(PERSONA) python3 -m pytest -q \
		$(call XDIST,loadfile) test/scan

# the shipping suites: the OpenSearch rig itself, then lure against it (a
# worker per module: each module's node is started once)
test-ship: $(B)/lure
	sh tools/deps.sh test
	ES_NODE_PORTS=61000-63999 LURE_BIN=$(B)/lure python3 -m pytest -q \
		$(call XDIST,loadfile) test/es test/ship

# the persona suites: each persona built, its transcripts, then real clients
# (nmap -sV, curl, ffprobe...) against it (test/persona)
PERSONAS_TESTED = hikvision linux dropbear-debian openwrt windows
test-persona:
	sh tools/deps.sh persona
	sh tools/nmapdb.sh build/deps/nmap-db
	@for p in $(PERSONAS_TESTED); do \
		$(MAKE) $(SUBJOBS) PERSONA=$$p build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san)/lure \
			build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san)/transcript \
			B=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san) && \
		$(MAKE) PERSONA=$$p test-emu B=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san) && \
		LURE_BIN=build/$(TARGET)-$$p$(if $(filter 1,$(SAN)),-san)/lure LURE_PERSONA=$$p \
			LURE_NMAP_DB=build/deps/nmap-db \
			python3 -m pytest -q $(call XDIST,load,$(PERSONA_JOBS)) test/persona || exit 1; done

# make test: the whole functional suite. What it installs comes first (two
# apt-get never run at once); the deployment suite (its own static builds,
# containers, qemu-system boots: mostly waiting) runs beside the others at a
# lower priority (the SSH suites compare lure's timing with sshd's), its
# output in build/test-deploy.log, printed when both are done.
TEST_SUITES = test-unit test-emu test-it test-scan test-persona test-tls test-ship \
	test-ship-es7 test-report test-ct-sntrup761
test:
	@sh tools/deps.sh test
	@sh tools/deps.sh persona
	@sh tools/deps.sh scan
	@sh tools/deps.sh deploy
	@sh tools/deps.sh ct
	@sh tools/deps.sh report
	@sh toolchains/deps.sh tls-test
	@bash test/es/es.sh build
	$(MAKE) $(SUBJOBS) $(B)/lure $(B)/unit $(B)/transcript $(B)/propdrive \
		$(B)/mkpersona
	@mkdir -p build; \
	nice -n 10 $(MAKE) --no-print-directory test-deploy \
		> build/test-deploy.log 2>&1 & \
	d=$$!; trap 'kill $$d 2>/dev/null' INT TERM; \
	$(MAKE) --no-print-directory $(TEST_SUITES); rc=$$?; \
	wait $$d; drc=$$?; \
	echo "=== make test-deploy (ran beside the suites above):"; \
	cat build/test-deploy.log; \
	echo "make test: suites exit $$rc, test-deploy exit $$drc"; \
	[ $$rc = 0 ] && [ $$drc = 0 ]

# the suites that run lure's own code, again under ASan+UBSan: unit,
# transcripts, test/it (telnet, config, robustness) and the property run,
# test/scan (the packet path, against real scanners),
# every persona (HTTP, RTSP, discovery, HTTPS, SSH, telnet, the shell);
# make fuzz runs the fuzz corpora under the sanitizers. Not the OpenSearch
# suites (test/es, test/ship: lure's shipper is fuzzed, fuzz_ship), nor
# test-tls (its clients are built without SAN: the same run twice), nor the
# Elasticsearch 7 rerun, the valgrind check or the deployment tests.
test-san:
	$(MAKE) SAN=1 $(SUBJOBS) build/$(TARGET)-$(PERSONA)-san/lure \
		build/$(TARGET)-$(PERSONA)-san/unit \
		build/$(TARGET)-$(PERSONA)-san/transcript \
		build/$(TARGET)-$(PERSONA)-san/propdrive \
		build/$(TARGET)-$(PERSONA)-san/mkpersona
	$(MAKE) SAN=1 test-unit test-emu test-it test-scan test-persona

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
$(B)/fuzz_tlshello: test/fuzz/fuzz_tlshello.c $(B)/src/tlshello.o $(B)/src/fmt.o $(patsubst %.c,$(B)/%.o,$(TLS_SRC))
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS) $(TLS_LIBS)
$(B)/fuzz_json: test/fuzz/fuzz_json.c $(B)/src/json.o $(B)/src/fmt.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# exploit rules and the indicator extractor (src/rules.c, src/indicators.c)
FUZZ_TARGETS += rules indicators
$(B)/fuzz_rules: test/fuzz/fuzz_rules.c $(B)/src/rules.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
$(B)/fuzz_indicators: test/fuzz/fuzz_indicators.c $(EMU_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the BearSSL backend's parsers (CA file, subjectAltName), whatever TLS is
FUZZ_TARGETS += bearssl
$(B)/fuzz_bearssl: test/fuzz/fuzz_bearssl.c src/tls_bearssl.c src/fmt.c \
		src/hash.c src/fdio.c \
		$(TLS_BEARSSL_STAMP) $(B)/.settings
	$(CC) $(ALL_CFLAGS) $(TLS_BEARSSL_CFLAGS) -fsanitize=fuzzer -o $@ \
		test/fuzz/fuzz_bearssl.c src/fmt.c src/hash.c src/fdio.c \
		$(ALL_LDFLAGS) $(TLS_BEARSSL_LIBS)
# zlib@openssh.com's inflater (src/sshzlib.c), whatever the persona
FUZZ_TARGETS += sshzlib
$(B)/fuzz_sshzlib: test/fuzz/fuzz_sshzlib.c $(B)/src/sshzlib.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the fake shell of SSH and Telnet sessions (src/shell.c)
FUZZ_TARGETS += shell
$(B)/fuzz_shell: test/fuzz/fuzz_shell.c $(EMU_OBJ) $(TEST_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# nginx's request parsers (src/httpparse.c), whatever the persona
FUZZ_TARGETS += httpparse
$(B)/fuzz_httpparse: test/fuzz/fuzz_httpparse.c $(B)/src/httpparse.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the PROXY protocol v1/v2 header parser (src/proxyproto.c)
FUZZ_TARGETS += proxyproto
$(B)/fuzz_proxyproto: test/fuzz/fuzz_proxyproto.c $(B)/src/proxyproto.o
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(ALL_LDFLAGS)
# the captured-frame parser of scan observation (src/scanpkt.c)
FUZZ_TARGETS += scanpkt
$(B)/fuzz_scanpkt: test/fuzz/fuzz_scanpkt.c $(B)/src/scanpkt.o
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
$(B)/unit: $(B)/src/sshkex.o $(B)/src/sshzlib.o $(B)/src/ed25519.o $(B)/src/sshlimit.o
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
.PHONY: test-ct-sntrup761

# The libraries (mbedTLS, BearSSL: not instrumented either way)
# are those of the host build (DEPS_CC): built once, not again with clang.
# FUZZ_JOBS targets run at once (one core each).
# make fuzz-bins: only the build (of FUZZ_TARGETS).
FUZZ_JOBS ?= 2
fuzz-bins:
	sh tools/deps.sh fuzz
	$(MAKE) $(SUBJOBS) CC=clang DEPS_CC=$(CC) SAN=1 \
		CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' \
		B=build/fuzz-$(PERSONA) \
		$(addprefix build/fuzz-$(PERSONA)/fuzz_,$(FUZZ_TARGETS))
fuzz: fuzz-bins
	FUZZ_JOBS=$(FUZZ_JOBS) sh test/fuzz/run.sh build/fuzz-$(PERSONA) \
		$(FUZZ_SECONDS) $(FUZZ_TARGETS)
.PHONY: fuzz-bins

# make bench: the static x86_64 binary (what is deployed) against nginx (and
# again with 10,000 idle connections held: test/bench/idle.py), then
# the shipper against rsyslog's omelasticsearch, then SSH handshakes of the
# linux persona against Cowrie, OpenCanary, dropbear and sshd, and its failed
# logins per second against vsftpd, MariaDB, Redis, Postfix and Xvnc, and
# the windows persona's SMB against Samba's (test/bench/logins.py)
bench:
	sh tools/deps.sh bench
	sh tools/deps.sh size
	$(MAKE) TARGET=x86_64 PERSONA=$(PERSONA)
	sh test/bench/run.sh build/x86_64-$(PERSONA)/lure
	python3 test/bench/idle.py build/x86_64-$(PERSONA)/lure
	sh tools/deps.sh scan
	python3 test/bench/scan.py build/x86_64-$(PERSONA)/lure
	@if [ -f test/bench/ship.sh ]; then sh test/bench/ship.sh; fi
	$(MAKE) TARGET=x86_64 PERSONA=linux
	sh test/bench/ssh.sh build/x86_64-linux/lure
	python3 test/bench/logins.py build/x86_64-linux/lure
	$(MAKE) TARGET=x86_64 PERSONA=windows
	python3 test/bench/logins.py build/x86_64-windows/lure --only smb

# make bench-soak: issue 12's soak, not part of bench (30 min at 500
# connections/s over every port of SOAK_PERSONA, a 5-minute OpenSearch
# outage, two kill -9s: lost, duplicated, RSS curve, counters; exit 1 when
# one fails). A short run: SOAK_ARGS="--minutes 3 --rate 200 --outage-seconds 40"
SOAK_PERSONA ?= hikvision
SOAK_ARGS ?=
bench-soak:
	python3 test/bench/soak.py --persona $(SOAK_PERSONA) $(SOAK_ARGS)
.PHONY: bench-soak

# make size: the static binary of every cross target with each TLS backend
# (toolchains/*.mk; the first build of a target fetches and builds its
# toolchain) and the openwrt persona on mipsel (SIZE_EXTRA: target:persona
# pairs, mbedTLS), then a table against the budgets (tools/size.sh) and the
# biggest parts. Fails when a binary is over its budget.
SIZE_TARGETS ?= x86_64 aarch64 armhf mipsel mips
SIZE_TLS ?= mbedtls bearssl
SIZE_EXTRA ?= mipsel:openwrt
size:
	sh tools/deps.sh size
	@for t in $(SIZE_TARGETS); do for b in $(SIZE_TLS); do \
		$(MAKE) --no-print-directory TARGET=$$t TLS=$$b \
			PERSONA=$(PERSONA) || exit 1; done; done
	@for x in $(SIZE_EXTRA); do \
		$(MAKE) --no-print-directory TARGET=$${x%%:*} TLS=mbedtls \
			PERSONA=$${x#*:} || exit 1; done
	@sh tools/size.sh $(foreach t,$(SIZE_TARGETS),$(foreach b,$(SIZE_TLS),\
		build/$(t)-$(PERSONA)$(if $(filter bearssl,$(b)),-bearssl))) \
		$(foreach x,$(SIZE_EXTRA),build/$(subst :,-,$(x)))

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
	$(MAKE) $(SUBJOBS) TARGET=x86_64 PERSONA=generic B=build/x86_64-generic TLS=mbedtls
	ES_NODE_PORTS=64000-64999 python3 -m pytest -q $(call XDIST,loadfile) test/deploy
endif
# --- end deploy ----------------------------------------------------------------
