# toolchains/tls.mk: the TLS backend, TLS=mbedtls|bearssl|none. Include it
# from the Makefile after B (and TARGET, CC, OPT, CFLAGS_TARGET) are set. It
# defines
# for the Makefile to wire in:
#   TLS_SRC     add to CORE_SRC: src/tls_{mbedtls,bearssl,none}.c
#   TLS_CFLAGS  add to ALL_CFLAGS: the library's headers (as -isystem)
#   TLS_LIBS    add to ALL_LDFLAGS (after the objects): the static libraries
#   TLS_DEPS    the built library; $(B)/src/tls_<backend>.o depends on it here,
#               list it for anything else that needs the headers
#   TLS_LURE_OBJ, TLS_LURE_LIBS  when set (the client-only mbedTLS, below),
#               what the daemon links instead of $(B)/src/tls_mbedtls.o and
#               TLS_LIBS
# and the target test-tls: the test driver on each backend (whatever TLS
# is) in build/tls-test-$(TARGET)/, then pytest test/tls against nginx, once
# per backend. Both libraries are fetched from Debian's source archive and
# built by toolchains/deps.sh into build/deps/$(TARGET)/{mbedtls,bearssl}/
# (cached; mbedTLS ~10 s, BearSSL ~25 s once per target).

ifeq ($(B),)
$(error toolchains/tls.mk: include it after B is set)
endif

# LTO_LIBS (toolchains/x86_64.mk, cross.mk): the libraries are compiled
# again at each link, where mbedTLS 2.28's ssl_calc_finished_tls_sha384
# gives a known false -Wstringop-overflow (a 48-byte buffer for SHA-384's
# 48 bytes, passed as unsigned char[64]); -Werror would make it fatal.
TLS_LTO_LDFLAGS = $(if $(LTO_LIBS),-Wno-stringop-overflow)

# rules here must not become the Makefile's default goal
TLS_SAVED_GOAL := $(.DEFAULT_GOAL)
AR ?= ar
TLS_MBEDTLS_DIR = build/deps/$(TARGET)/mbedtls
TLS_MBEDTLS_STAMP = $(TLS_MBEDTLS_DIR)/.stamp
TLS_MBEDTLS_CFLAGS = -isystem $(TLS_MBEDTLS_DIR)/include
TLS_MBEDTLS_LIBS = -L$(TLS_MBEDTLS_DIR)/lib -lmbedtls -lmbedx509 -lmbedcrypto
TLS_BEARSSL_DIR = build/deps/$(TARGET)/bearssl
TLS_BEARSSL_STAMP = $(TLS_BEARSSL_DIR)/.stamp
TLS_BEARSSL_CFLAGS = -isystem $(TLS_BEARSSL_DIR)/include
TLS_BEARSSL_LIBS = -L$(TLS_BEARSSL_DIR)/lib -lbearssl

# A persona with no tls port (TLS_SERVER=0) and no SSH needs only the
# shipper's client: lure links the library of src/mbedtls_config_client.h
# (build/deps/$(TARGET)/mbedtls-client) and src/tls_mbedtls.c compiled
# against it, as TLS_LURE_OBJ and TLS_LURE_LIBS; the unit tests and fuzzers
# keep the whole library (the SSH helpers' suites use it).
TLS_MBEDTLS_CLIENT_DIR = build/deps/$(TARGET)/mbedtls-client
TLS_MBEDTLS_CLIENT_STAMP = $(TLS_MBEDTLS_CLIENT_DIR)/.stamp
TLS_MBEDTLS_CLIENT_ONLY = $(if $(filter 0,$(TLS_SERVER)),$(if $(filter \
	ssh,$(EMUS)),0,1),0)

ifeq ($(TLS),mbedtls)
TLS_SRC = src/tls_mbedtls.c
TLS_CFLAGS = $(TLS_MBEDTLS_CFLAGS)
TLS_LIBS = $(TLS_MBEDTLS_LIBS)
TLS_DEPS = $(TLS_MBEDTLS_STAMP)
$(B)/src/tls_mbedtls.o: $(TLS_DEPS)
ifeq ($(TLS_MBEDTLS_CLIENT_ONLY),1)
TLS_LURE_OBJ = $(B)/src/tls_mbedtls_client.o
TLS_LURE_LIBS = -L$(TLS_MBEDTLS_CLIENT_DIR)/lib -lmbedtls -lmbedx509 \
	-lmbedcrypto
# its -isystem comes first: every mbedtls/ header from the client library
$(TLS_LURE_OBJ): src/tls_mbedtls.c $(TLS_MBEDTLS_CLIENT_STAMP) \
		$(B)/.settings $(B)/include/jsmn.h $(B)/emu_list.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (client-only mbedTLS)")
	$(Q)$(CC) -isystem $(TLS_MBEDTLS_CLIENT_DIR)/include $(ALL_CFLAGS) \
		-MMD -MP -c -o $@ $<
endif
else ifeq ($(TLS),bearssl)
TLS_SRC = src/tls_bearssl.c
TLS_CFLAGS = $(TLS_BEARSSL_CFLAGS)
TLS_LIBS = $(TLS_BEARSSL_LIBS)
TLS_DEPS = $(TLS_BEARSSL_STAMP)
$(B)/src/tls_bearssl.o: $(TLS_DEPS)
else ifeq ($(TLS),none)
TLS_SRC = src/tls_none.c
TLS_CFLAGS =
TLS_LIBS =
TLS_DEPS =
else
$(error TLS=$(TLS): one of mbedtls, bearssl, none)
endif

# deps.sh runs every time (a hash compare when nothing changed) and touches
# the stamp only after a rebuild, so objects rebuild only then: a change of
# src/mbedtls_config.h, CC, AR, OPT or CFLAGS_TARGET rebuilds the library.
$(TLS_MBEDTLS_STAMP): tls-always $(TOOLCHAIN_STAMP)
	@sh toolchains/deps.sh mbedtls $(TARGET) "$(DEPS_CC)" "$(AR)" \
		"$(OPT) $(CFLAGS_TARGET) $(LTO_LIBS)"
$(TLS_MBEDTLS_CLIENT_STAMP): tls-always $(TOOLCHAIN_STAMP)
	@sh toolchains/deps.sh mbedtls $(TARGET) "$(DEPS_CC)" "$(AR)" \
		"$(OPT) $(CFLAGS_TARGET) $(LTO_LIBS)" src/mbedtls_config_client.h \
		mbedtls-client
$(TLS_BEARSSL_STAMP): tls-always $(TOOLCHAIN_STAMP)
	@sh toolchains/deps.sh bearssl $(TARGET) "$(DEPS_CC)" "$(AR)" \
		"$(OPT) $(CFLAGS_TARGET) $(LTO_LIBS)"
# a cross compiler is built before anything is compiled with it
$(B)/.settings: $(TOOLCHAIN_STAMP)

# --- make test-tls ----------------------------------------------------------
TLS_TEST_B = build/tls-test-$(TARGET)
TLS_TEST_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wundef -Wstrict-prototypes $(OPT) -g $(CFLAGS_TARGET) -Isrc
TLS_TEST_SRC = test/tls/tls_client.c src/tls.h

$(TLS_TEST_B)/tls_client: $(TLS_TEST_SRC) src/tls_mbedtls.c src/fmt.c $(TLS_MBEDTLS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TLS_TEST_CFLAGS) $(TLS_MBEDTLS_CFLAGS) -o $@ \
		test/tls/tls_client.c src/tls_mbedtls.c src/fmt.c $(TLS_MBEDTLS_LIBS) \
		$(LDFLAGS_TARGET) $(TLS_LTO_LDFLAGS)

$(TLS_TEST_B)/tls_client_none: $(TLS_TEST_SRC) src/tls_none.c src/fmt.c
	@mkdir -p $(@D)
	$(CC) $(TLS_TEST_CFLAGS) -o $@ test/tls/tls_client.c src/tls_none.c src/fmt.c \
		$(LDFLAGS_TARGET)

$(TLS_TEST_B)/tls_client_bearssl: $(TLS_TEST_SRC) src/tls_bearssl.c src/fmt.c \
		src/hash.c src/fdio.c $(TLS_BEARSSL_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TLS_TEST_CFLAGS) $(TLS_BEARSSL_CFLAGS) -o $@ \
		test/tls/tls_client.c src/tls_bearssl.c src/fmt.c src/hash.c \
		src/fdio.c $(TLS_BEARSSL_LIBS) \
		$(LDFLAGS_TARGET) $(TLS_LTO_LDFLAGS)

# the same suite once per backend (TLS_BACKENDS="mbedtls" for one)
TLS_BACKENDS ?= mbedtls bearssl
test-tls: $(foreach b,$(TLS_BACKENDS),$(TLS_TEST_B)/tls_client$(if \
		$(filter mbedtls,$(b)),,_$(b))) $(TLS_TEST_B)/tls_client_none
	@sh toolchains/deps.sh tls-test
	@for b in $(TLS_BACKENDS); do \
		c=$(TLS_TEST_B)/tls_client; [ $$b = mbedtls ] || c=$${c}_$$b; \
		echo "test-tls: TLS=$$b"; \
		LURE_TLS_CLIENT=$$c \
		LURE_TLS_CLIENT_NONE=$(TLS_TEST_B)/tls_client_none \
			python3 -m pytest -q test/tls || exit 1; done

.PHONY: tls-always test-tls
.DEFAULT_GOAL := $(TLS_SAVED_GOAL)
