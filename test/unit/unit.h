/* unit.h: a tiny test runner: suites are tables of named functions; CHECK
 * records a failure and returns from the test. The runner prints
 * "N passed, N failed". */
#ifndef LURE_UNIT_H
#define LURE_UNIT_H

#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

void
unit_fail(const char *file, int line, const char *what);

#define CHECK(cond)                                           \
	do {                                                  \
		if (!(cond)) {                                \
			unit_fail(__FILE__, __LINE__, #cond); \
			return;                               \
		}                                             \
	} while (0)
#define CHECK_STR(a, b)                                     \
	do {                                                \
		if (strcmp((a), (b)) != 0) {                \
			unit_fail(__FILE__, __LINE__, (a)); \
			unit_fail(__FILE__, __LINE__, (b)); \
			return;                             \
		}                                           \
	} while (0)

#endif
