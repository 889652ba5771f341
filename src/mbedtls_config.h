/* mbedtls_config.h: lure's own mbedTLS 2.28 configuration, installed over
 * include/mbedtls/config.h by toolchains/deps.sh (a change here rebuilds the
 * library). TLS 1.2 client only: ECDHE-RSA/ECDHE-ECDSA with AES-GCM and
 * ChaCha20-Poly1305 on P-256, P-384 and X25519; X.509 + PEM verification with
 * RSA (PKCS#1 v1.5, and PSS but in the client-only library) and ECDSA
 * signatures; a static heap; no sockets,
 * no timers, no files (FS_IO: src/tls_mbedtls.c reads the CA file into the
 * static heap itself), no entropy module (it seeds CTR_DRBG from getrandom).
 * mbedTLS tests these with #if defined(), so an option is on when defined.
 * The TLS server and SSH sections below are left out when
 * LURE_MBEDTLS_CLIENT_ONLY is 1 (src/mbedtls_config_client.h: the
 * library of personas with neither a tls port nor SSH). No ERROR_C: its
 * 13 KiB of messages for every module become a short table of the ones
 * the shipper meets in src/tls_mbedtls.c. */
#ifndef MBEDTLS_CONFIG_H
#define MBEDTLS_CONFIG_H

#ifndef LURE_MBEDTLS_CLIENT_ONLY
#define LURE_MBEDTLS_CLIENT_ONLY 0
#endif

/* System: bn_mul.h assembly (x86_64, ARM, MIPS...), time for validity;
 * AES-NI and PCLMUL for AES-GCM where the CPU has them (aesni.c compiles
 * to nothing on other architectures and checks the CPU at run time). */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_AESNI_C
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_DEPRECATED_REMOVED
/* The library's snprintf (mbedtls_x509_crt_verify_info) and fprintf (the
 * allocator's heap-corruption messages) are lure's (src/fmt.c), so that
 * libc's printf family and stdio (and, on soft-float targets, its float
 * helpers) are not linked: everything that links this library links
 * src/fmt.c. fprintf's FILE argument (always stderr) is dropped by the
 * function-like macro, so that musl's stderr FILE is not referenced; its
 * gmtime_r (certificate validity) is fmt_gmtime, without musl's time zone
 * code (src/tls_mbedtls.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
int
fmt_snprintf(char *buf, size_t size, const char *fmt, ...);
int
fmt_dprintf(int fd, const char *fmt, ...);
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO fmt_snprintf
#define MBEDTLS_PLATFORM_FPRINTF_MACRO(f, ...) fmt_dprintf(2, __VA_ARGS__)
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
/* pem.c's strstr too (musl's two-way search is 0.9 KB): declared here,
 * before any <string.h>, so the library's own prototype is renamed with
 * its calls */
char *
fmt_strstr(const char *h, const char *n);
#define strstr fmt_strstr

/* All allocations come from one static array (tls_mbedtls.c); the DEBUG
 * counters give the peak that sizes it (a few words per call, no output
 * unless the heap is corrupt). */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG
/* The allocator's default of 4 misaligns pointers and 64-bit fields. */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8

/* Key exchange, curves, signatures. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#if !LURE_MBEDTLS_CLIENT_ONLY
/* faster P-256/P-384 (the SSH key exchanges; the shipper offers X25519
 * first, so the client-only library does without) */
#define MBEDTLS_ECP_NIST_OPTIM
#endif
#define MBEDTLS_PKCS1_V15
#if !LURE_MBEDTLS_CLIENT_ONLY
/* RSA-PSS certificate signatures: no public CA issues them and BearSSL
 * has none; the client-only library verifies PKCS#1 v1.5 and ECDSA only
 * (TLS 1.2 handshake signatures are PKCS#1 v1.5 in mbedTLS 2.28) */
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#endif
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* TLS 1.2 client features. */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Smaller code, same results. The AES tables (2 KiB with FEWER_TABLES)
 * are constants in the file, or in the client-only library computed into
 * .bss at the first AES key: 2 KiB less file for 2 KiB of RAM. */
#if !LURE_MBEDTLS_CLIENT_ONLY
#define MBEDTLS_AES_ROM_TABLES
#endif
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_SHA256_SMALLER
#if LURE_MBEDTLS_CLIENT_ONLY
#define MBEDTLS_SHA512_SMALLER
/* mbedTLS's pk tables link the private-key side (RSA decryption and
 * signing, ECDSA signing) that a client never calls: RSA without CRT
 * makes it smaller. ECP's internal RNG blinds multiplications given no
 * RNG: in a client only signature checks on public data. SHA-1 only
 * parses the SHA-1 roots (below) and hashes what the verify profile then
 * refuses: src/tls_mbedtls.c has a rolled-up block function for it
 * (4.4 KiB less on x86_64). */
#define MBEDTLS_RSA_NO_CRT
#define MBEDTLS_ECP_NO_INTERNAL_RNG
#define MBEDTLS_SHA1_PROCESS_ALT
#endif

/* Modules. */
#define MBEDTLS_AES_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_C
#define MBEDTLS_GCM_C
#define MBEDTLS_MD_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_RSA_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C
/* SHA-1 only to parse the many root CAs that are self-signed with it
 * (DigiCert Global Root CA, Baltimore, GlobalSign...: 30 of Debian's 144);
 * the default verify profile and TLS 1.2 signatures still refuse SHA-1. */
#define MBEDTLS_SHA1_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* Sizes. RSA keys up to 4096 bits. The server may send 16 KiB records
 * unless it honours max_fragment_length, so the input side stays full size;
 * our own records are at most 4 KiB. */
#define MBEDTLS_MPI_MAX_SIZE 512
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* Offered in this order (all are AEAD with forward secrecy). */
/* ChaCha20-Poly1305 first: constant-time and fast in plain C on routers
 * without AES instructions, and on x86_64 it still beat AES-NI GCM in the
 * shipping benchmark (test/bench/ship.sh). */
#define MBEDTLS_SSL_CIPHERSUITES                                     \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,       \
	        MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, \
	        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,     \
	        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,       \
	        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,     \
	        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384

#if !LURE_MBEDTLS_CLIENT_ONLY
/* --- TLS server (emulated HTTPS; owner: src/certgen.c, tlshello.c) ---
 * The server side of the same TLS 1.2 suites; RSA key generation and key
 * and public-key DER writing for the per-instance certificate; MD5 for JA3
 * fingerprints (never used by TLS itself). */
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_MD5_C
/* Suites a persona may list (tls.suites, src/certgen.c) beyond the AEAD
 * ones above: AES-CBC with HMAC, and RSA key exchange (OpenWrt's uhttpd,
 * ustream-ssl on mbedTLS, offers both); the default list stays the one
 * above. */
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_KEY_EXCHANGE_RSA_ENABLED
/* --- end TLS server --- */

/* --- SSH server (emu/ssh.c, src/sshkex.c; owner: the SSH emulator) ---
 * What OpenSSH 9.2's algorithms need beyond the TLS set: AES-CTR
 * (aes128/192/256-ctr), P-521 (ecdh-sha2-nistp521), and bignums of 8192
 * bits for diffie-hellman-group18-sha512 (the TLS side's RSA keys stay at
 * most 4096 bits: this only raises a bound). Also used: GCM, ChaCha20,
 * Poly1305, ECDSA, ECDH, RSA (PKCS#1 v1.5), SHA-1/256/512, GENPRIME and
 * PK_WRITE (host key generation and storage), MD5 (HASSH). */
#define MBEDTLS_CIPHER_MODE_CTR
#define MBEDTLS_ECP_DP_SECP521R1_ENABLED
#undef MBEDTLS_MPI_MAX_SIZE
#define MBEDTLS_MPI_MAX_SIZE 1024
/* --- end SSH server --- */
#endif

#include "mbedtls/check_config.h"

#endif
