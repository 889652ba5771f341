/* mbedtls_config_client.h: the mbedTLS configuration of a persona with no
 * tls port and no SSH: the shipper's TLS 1.2 client of src/mbedtls_config.h
 * and nothing else (no server side, no RSA key generation, no key writer,
 * no MD5, no AES-CTR or P-521, no RSA-PSS; AES tables built in RAM, RSA
 * without CRT, ECP without its internal RNG, SHA-1 rounds from
 * src/tls_mbedtls.c: the LURE_MBEDTLS_CLIENT_ONLY parts of
 * src/mbedtls_config.h). toolchains/deps.sh installs it as
 * include/mbedtls/config.h beside a copy of src/mbedtls_config.h. */
#ifndef LURE_MBEDTLS_CONFIG_CLIENT_H
#define LURE_MBEDTLS_CONFIG_CLIENT_H

#define LURE_MBEDTLS_CLIENT_ONLY 1
#include "mbedtls_config.h"

/* the library's snprintf (mbedtls_x509_crt_verify_info) is lure's
 * (src/fmt.c), so that libc's printf family is not linked: only lure links
 * this library. */
#include <stddef.h>
int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...);
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO fmt_snprintf

#endif
