# toolchains/tls.mk: the TLS backend, TLS=mbedtls|none. Include it from the
# Makefile after B (and TARGET, CC, OPT, CFLAGS_TARGET) are set. It defines
# for the Makefile to wire in:
#   TLS_SRC     add to CORE_SRC: src/tls_mbedtls.c or src/tls_none.c
#   TLS_CFLAGS  add to ALL_CFLAGS: the mbedTLS headers (as -isystem)
#   TLS_LIBS    add to ALL_LDFLAGS (after the objects): the static libraries
#   TLS_DEPS    the built library; $(B)/src/tls_mbedtls.o depends on it here,
#               list it for anything else that needs the headers
# and the target test-tls: the test driver on the mbedTLS backend (whatever
# TLS is) in build/tls-test-$(TARGET)/, then pytest test/tls against nginx.
# mbedTLS is fetched from Debian's source archive and built by
# toolchains/deps.sh into build/deps/$(TARGET)/mbedtls/ (cached, ~5 s once).

ifeq ($(B),)
$(error toolchains/tls.mk: include it after B is set)
endif

# rules here must not become the Makefile's default goal
TLS_SAVED_GOAL := $(.DEFAULT_GOAL)
AR ?= ar
TLS_MBEDTLS_DIR = build/deps/$(TARGET)/mbedtls
TLS_MBEDTLS_STAMP = $(TLS_MBEDTLS_DIR)/.stamp
TLS_MBEDTLS_CFLAGS = -isystem $(TLS_MBEDTLS_DIR)/include
TLS_MBEDTLS_LIBS = -L$(TLS_MBEDTLS_DIR)/lib -lmbedtls -lmbedx509 -lmbedcrypto

ifeq ($(TLS),mbedtls)
TLS_SRC = src/tls_mbedtls.c
TLS_CFLAGS = $(TLS_MBEDTLS_CFLAGS)
TLS_LIBS = $(TLS_MBEDTLS_LIBS)
TLS_DEPS = $(TLS_MBEDTLS_STAMP)
$(B)/src/tls_mbedtls.o: $(TLS_DEPS)
else ifeq ($(TLS),none)
TLS_SRC = src/tls_none.c
TLS_CFLAGS =
TLS_LIBS =
TLS_DEPS =
else
$(error TLS=$(TLS): one of mbedtls, none)
endif

# deps.sh runs every time (a hash compare when nothing changed) and touches
# the stamp only after a rebuild, so objects rebuild only then: a change of
# src/mbedtls_config.h, CC, AR, OPT or CFLAGS_TARGET rebuilds the library.
$(TLS_MBEDTLS_STAMP): tls-always
	@sh toolchains/deps.sh mbedtls $(TARGET) "$(CC)" "$(AR)" \
		"$(OPT) $(CFLAGS_TARGET)"

# --- make test-tls ----------------------------------------------------------
TLS_TEST_B = build/tls-test-$(TARGET)
TLS_TEST_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wundef -Wstrict-prototypes $(OPT) -g $(CFLAGS_TARGET) -Isrc
TLS_TEST_SRC = test/tls/tls_client.c src/tls.h

$(TLS_TEST_B)/tls_client: $(TLS_TEST_SRC) src/tls_mbedtls.c $(TLS_MBEDTLS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TLS_TEST_CFLAGS) $(TLS_MBEDTLS_CFLAGS) -o $@ \
		test/tls/tls_client.c src/tls_mbedtls.c $(TLS_MBEDTLS_LIBS) \
		$(LDFLAGS_TARGET)

$(TLS_TEST_B)/tls_client_none: $(TLS_TEST_SRC) src/tls_none.c
	@mkdir -p $(@D)
	$(CC) $(TLS_TEST_CFLAGS) -o $@ test/tls/tls_client.c src/tls_none.c \
		$(LDFLAGS_TARGET)

test-tls: $(TLS_TEST_B)/tls_client $(TLS_TEST_B)/tls_client_none
	@sh toolchains/deps.sh tls-test
	LURE_TLS_CLIENT=$(TLS_TEST_B)/tls_client \
	LURE_TLS_CLIENT_NONE=$(TLS_TEST_B)/tls_client_none \
		python3 -m pytest -q test/tls

.PHONY: tls-always test-tls
.DEFAULT_GOAL := $(TLS_SAVED_GOAL)
