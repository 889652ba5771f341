/* main.c: run every unit suite, or those named on the command line. */
#include <stdio.h>
#include <string.h>

#include "lure.h"
#include "unit.h"

static int failed_now;

void
unit_fail(const char *file, int line, const char *what)
{
	printf("  %s:%d: %s\n", file, line, what);
	failed_now = 1;
}

static const struct {
	const char *name;
	const struct unit_test *tests;
} suites[] = {
        {"json", unit_json},
        {"event", unit_event},
        {"config", unit_config},
        {"outbox", unit_outbox},
        {"ship", unit_ship},
        {"spool", unit_spool},
};

int
main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (size_t s = 0; s < LURE_ARRAY_LEN(suites); s++) {
		int want = argc < 2;
		for (int a = 1; a < argc; a++)
			want |= strcmp(argv[a], suites[s].name) == 0;
		if (!want)
			continue;
		for (const struct unit_test *t = suites[s].tests; t->name;
		        t++) {
			failed_now = 0;
			t->fn();
			if (failed_now)
				printf("FAIL %s.%s\n", suites[s].name, t->name),
				        failed++;
			else
				passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
