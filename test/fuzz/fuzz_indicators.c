/* fuzz_indicators.c: libFuzzer target for the indicator extractor. The
 * first byte picks the decoding flags; every item must be a NUL-terminated
 * string inside the result's storage, counts within IND_MAX, and the
 * event fields built from them valid JSON. */
#include <stdlib.h>
#include <string.h>

#include "indicators.h"
#include "json.h"

static struct ind_result r;

static void
check(const char *const *list, size_t n)
{
	if (n > IND_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (list[i] < r.store || list[i] >= r.store + r.used)
			abort();
		len = strlen(list[i]);
		if (!len || list[i] + len >= r.store + r.used + 1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	indicators_extract(data + 1, size - 1, data[0] & 7, &r);
	if (r.text_len >= sizeof r.text || r.text[r.text_len] != 0 ||
	        r.used > sizeof r.store)
		abort();
	check(r.command, r.ncommand);
	check(r.url, r.nurl);
	check(r.ip, r.nip);
	indicators_event(NULL, &r);
	return 0;
}
