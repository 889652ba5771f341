/* bytes.h: little-endian fields of wire formats (SMB, NTLMSSP, RDP, TDS),
 * read and written at unaligned addresses. */
#ifndef LURE_BYTES_H
#define LURE_BYTES_H

#include <stdint.h>

static inline uint16_t
bytes_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
bytes_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
bytes_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
bytes_put32(uint8_t *p, uint32_t v)
{
	bytes_put16(p, v);
	bytes_put16(p + 2, v >> 16);
}

static inline void
bytes_put64(uint8_t *p, uint64_t v)
{
	bytes_put32(p, (uint32_t)v);
	bytes_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
