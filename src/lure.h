/* lure.h: what every module shares: fixed limits, the clock, logging.
 * Times are milliseconds: lure_now() is monotonic (deadlines), lure_wall()
 * is UTC wall time (event timestamps). Tests may pin both with lure_clock_fix(). */
#ifndef LURE_H
#define LURE_H

#include <stddef.h>
#include <stdint.h>

#ifndef LURE_VERSION
#define LURE_VERSION "0.1.0"
#endif
#ifndef LURE_PERSONA
#define LURE_PERSONA "generic"
#endif
#ifndef LURE_TLS
#define LURE_TLS "none"
#endif
#ifndef LURE_DEBUG
#define LURE_DEBUG 0
#endif

#define LURE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LURE_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LURE_MAX(a, b) ((a) > (b) ? (a) : (b))

int64_t
lure_now(void);
int64_t
lure_wall(void);
/* Pin both clocks (wall and monotonic, in ms) for transcript tests; 0 unpins. */
void
lure_clock_fix(int64_t wall_ms);
void
lure_clock_advance(int64_t ms);

/* Fill p with n unpredictable bytes (getrandom, /dev/urandom fallback);
 * under lure_clock_fix() it is a fixed xorshift stream so tests repeat. */
void
lure_random(void *p, size_t n);

/* 1 under `lure -t`: start-up code checks everything it can, but binds no
 * port and opens no file for writing. */
extern int lure_checking;

/* Log lines to stderr: "WORD key=value ...". errno is preserved. */
/* The value of the n (1-9) decimal digits at s, or -1 if one is not a
 * digit. (No sscanf in lure: it would link musl's float parsing.) */
long
lure_digits(const char *s, int n);

void
lure_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failures only: log and exit with code. */
void
lure_die(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), noreturn));

#define LURE_TRACE(...)                        \
	do {                                   \
		if (LURE_DEBUG)                \
			lure_log(__VA_ARGS__); \
	} while (0)

#endif
