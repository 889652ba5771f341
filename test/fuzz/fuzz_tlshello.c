/* fuzz_tlshello.c: libFuzzer target for the ClientHello parser: any bytes
 * give a verdict without reading past the input; a complete hello gives
 * well-formed fingerprints, and the same verdict from exactly the bytes of
 * its records (what a split delivery sees). */
#include <stdlib.h>
#include <string.h>

#include "tlshello.h"

static struct tlshello a, b;

static void
check_ja4(const char *s)
{
	/* t + 2 version + d|i + 2 + 2 digits + 2 ALPN _ 12 hex _ 12 hex */
	if (strlen(s) != 36 || s[0] != 't' || s[10] != '_' || s[23] != '_')
		abort();
	for (int i = 11; i < 36; i++)
		if (i != 23 && !strchr("0123456789abcdef", s[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = tlshello_parse(data, size, &a);

	if (r < TLSHELLO_BAD || r > TLSHELLO_MORE)
		abort();
	if (r < 0 && a.error == NULL)
		abort();
	if (r != TLSHELLO_DONE)
		return 0;
	check_ja4(a.ja4);
	/* ja3 is "" only without a TLS backend (no MD5) */
	if ((a.ja3[0] && strlen(a.ja3) != 32) || a.hello_len == 0 ||
	        a.hello_len > size)
		abort();
	if (tlshello_parse(data, a.hello_len, &b) != TLSHELLO_DONE ||
	        strcmp(a.ja4, b.ja4) != 0 || strcmp(a.ja3, b.ja3) != 0 ||
	        strcmp(a.ja4_r, b.ja4_r) != 0)
		abort();
	return 0;
}
