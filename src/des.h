/* des.h: the Data Encryption Standard (FIPS 46-3), encryption of one 64-bit
 * block in ECB mode, written for clarity rather than speed: VNC
 * authentication (the vnc emulator) encrypts its 16-byte challenge with it
 * to try a few common passwords. No state. */
#ifndef LURE_DES_H
#define LURE_DES_H

#include <stddef.h>
#include <stdint.h>

/* out = DES_key(in); the key's parity bits (the low bit of each byte) are
 * ignored, as the standard says. */
void
des_encrypt(const uint8_t key[8], const uint8_t in[8], uint8_t out[8]);

/* The response a VNC client sends to challenge (16 bytes) for password
 * (its first 8 bytes, zero-padded; each key byte bit-reversed, as
 * TigerVNC's and every RFB implementation's d3des key set-up does). */
void
des_vnc_response(const char *password, size_t len, const uint8_t challenge[16],
        uint8_t out[16]);

#endif
