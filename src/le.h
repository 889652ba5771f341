/* le.h: little-endian integers in byte buffers, for the wire formats of
 * Microsoft's protocols (DCE/RPC's NDR, SMB, TDS...). No bounds checks:
 * the caller has checked the length. */
#ifndef LURE_LE_H
#define LURE_LE_H

#include <stdint.h>

static inline uint16_t
le_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
le_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
le_put32(uint8_t *p, uint32_t v)
{
	le_put16(p, v);
	le_put16(p + 2, v >> 16);
}

#endif
