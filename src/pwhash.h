/* pwhash.h: the crypt(3) password hashes a device keeps in /etc/shadow, so
 * that a persona's shadow line is the hash of a password it accepts (a
 * cracked hash gives back the bait password, as on the device):
 * md5crypt "$1$" (BusyBox passwd, OpenWrt before 24.10, Buildroot) and
 * sha512crypt "$6$" (glibc/libxcrypt, 5000 rounds: chpasswd -c SHA512,
 * cloud-init). Built only for the personas whose identity templates use
 * them (src/identity.h: {md5crypt:PW}, {sha512crypt:PW}). */
#ifndef LURE_PWHASH_H
#define LURE_PWHASH_H

#include <stddef.h>

#define PWHASH_MAX 128 /* room for the longest ("$6$" 16 "$" 86, NUL) */
#define PWHASH_PW_MAX 64 /* longest password taken (longer: cut) */

/* "$1$SALT$HASH" of pw[0..pn) with salt s[0..sn) (at most 8 used) into
 * out[PWHASH_MAX]; returns its length. */
size_t
pwhash_md5crypt(const char *pw, size_t pn, const char *s, size_t sn, char *out);
/* "$6$SALT$HASH" (5000 rounds, the default: no "rounds=") with salt
 * s[0..sn) (at most 16 used) into out[PWHASH_MAX]; returns its length. */
size_t
pwhash_sha512crypt(
        const char *pw, size_t pn, const char *s, size_t sn, char *out);

/* crypt's alphabet: "./0-9A-Za-z" (salts are drawn from it) */
extern const char pwhash_b64[];

#endif
