/* fuzz_rules.c: libFuzzer target for the exploit rule matcher. Input:
 * method, path, query and body separated by NUL bytes (missing parts are
 * absent). Every match must be a table entry and the walk must end. */
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[4] = {NULL, NULL, NULL, NULL};
	size_t len[4] = {0, 0, 0, 0}, k = 0, start = 0, i = 0, n = 0;
	struct rules_req q;
	const struct rule *r;

	for (size_t j = 0; j <= size && k < 4; j++)
		if (j == size || data[j] == 0) {
			part[k] = data + start;
			len[k++] = j - start;
			start = j + 1;
		}
	q.protocol = "http";
	q.method = part[0], q.method_len = len[0];
	q.path = part[1] ? part[1] : (const uint8_t *)"", q.path_len = len[1];
	q.query = part[2], q.query_len = len[2];
	q.body = part[3], q.body_len = len[3];
	while ((r = rules_match(&q, &i))) {
		if (r < rules_table || r >= rules_table + rules_count ||
		        ++n > rules_count)
			abort();
	}
	if (i != rules_count)
		abort();
	return 0;
}
