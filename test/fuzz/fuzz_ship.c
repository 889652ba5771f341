/* fuzz_ship.c: libFuzzer target for what the shipper reads from the
 * network: the first byte picks the parser (HTTP response, bulk response
 * JSON, DNS answer); none may crash, overrun or report nonsense. */
#include <stdlib.h>
#include <string.h>

#include "resolve.h"
#include "ship.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[65537];
	int st[64], code, cl;
	const char *why[64], *body;
	size_t wl[64], bl;
	uint8_t addr[16];
	long n;

	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		memcpy(buf, data + 1, size - 1);
		if (ship_parse_http(buf, size - 1, 65536, &code, &body, &bl,
		            &cl) == 1 &&
		        (body < buf || body + bl > buf + size - 1))
			abort();
		break;
	case 1:
		n = ship_parse_bulk(
		        (const char *)data + 1, size - 1, st, why, wl, 64);
		for (long i = 0; i < n && i < 64; i++)
			if (why[i] &&
			        (why[i] < (const char *)data ||
			                why[i] + wl[i] >
			                        (const char *)data + size))
				abort();
		break;
	default:
		(void)resolve_parse(
		        data + 1, size - 1, 0x1234, 1 + 27 * (size & 1), addr);
	}
	return 0;
}
