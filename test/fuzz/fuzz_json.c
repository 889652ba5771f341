/* fuzz_json.c: libFuzzer target: json_escape() output is always a valid
 * JSON string body within the cap, and json_check() never misbehaves. */
#include <stdlib.h>
#include <string.h>

#include "json.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[1 << 18];
	struct json_escape_result r;
	size_t cap;

	if (!size)
		return 0;
	cap = (size_t)data[0] * 7;
	out[0] = '"';
	r = json_escape(out + 1, cap, data + 1, size - 1);
	if (r.out_len > cap || r.in_used > size - 1 ||
	        r.truncated != (r.in_used < size - 1))
		abort();
	out[r.out_len + 1] = '"';
	if (json_check(out, r.out_len + 2) != -1)
		abort();
	(void)json_check((const char *)data, size);
	return 0;
}
