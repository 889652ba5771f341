/* fuzz_proxyproto.c: libFuzzer target for the PROXY protocol parser: any
 * bytes give a verdict without reading past them; a complete header's
 * length fits in the input, and its prefixes are no worse than "more". */
#include <stdlib.h>

#include "proxyproto.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto h;
	int r = proxyproto_parse(data, size, &h);

	if (r < -1 || (size_t)(r > 0 ? r : 0) > size || (r < 0 && !h.error))
		abort();
	if (r > 0 && (h.family != 0 && h.family != 4 && h.family != 6))
		abort();
	if (r > 0 && proxyproto_parse(data, (size_t)r - 1, &h) != 0)
		abort();
	if (r > 0 && proxyproto_parse(data, (size_t)r, &h) != r)
		abort();
	return 0;
}
