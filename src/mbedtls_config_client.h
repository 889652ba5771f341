/* mbedtls_config_client.h: the mbedTLS configuration of a persona with no
 * tls port and no SSH: the shipper's TLS 1.2 client of src/mbedtls_config.h
 * and nothing else (no server side, no RSA key generation, no key writer,
 * no MD5, no AES-CTR or P-521, no RSA-PSS, no AES-NI; AES tables built
 * in RAM, RSA without CRT, ECP without its internal RNG, SHA-1 rounds from
 * src/tls_mbedtls.c: the LURE_MBEDTLS_CLIENT_ONLY parts of
 * src/mbedtls_config.h). toolchains/deps.sh installs it as
 * include/mbedtls/config.h beside a copy of src/mbedtls_config.h. */
#ifndef LURE_MBEDTLS_CONFIG_CLIENT_H
#define LURE_MBEDTLS_CONFIG_CLIENT_H

#define LURE_MBEDTLS_CLIENT_ONLY 1
#include "mbedtls_config.h"

/* no AES-NI code (1.2 KB on x86_64): the shipper offers ChaCha20-Poly1305
 * first, AES-GCM runs on the portable code when a node picks it */
#undef MBEDTLS_AESNI_C

/* mbedtls_calloc/free are memory_buffer_alloc's once src/tls_mbedtls.c's
 * heap_init() ran (before any other call), and fail/do nothing before: no
 * reference to libc's calloc and free, whose free() would link musl's full
 * malloc (~8 KB: src/fdio.h) */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS

#endif
