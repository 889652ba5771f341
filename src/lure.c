/* lure.c: clock, randomness, logging and the -t flag shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "lure.h"

int lure_checking;
static int64_t fixed_wall, fixed_mono;
static uint64_t fixed_rng = 0x9e3779b97f4a7c15ull;

int64_t
lure_now(void)
{
	struct timespec ts;

	if (fixed_wall)
		return fixed_mono;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
lure_wall(void)
{
	struct timespec ts;

	if (fixed_wall)
		return fixed_wall + fixed_mono;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
lure_clock_fix(int64_t wall_ms)
{
	fixed_wall = wall_ms;
	fixed_mono = 0;
	fixed_rng = 0x9e3779b97f4a7c15ull;
}

void
lure_clock_advance(int64_t ms)
{
	fixed_mono += ms;
}

void
lure_random(void *p, size_t n)
{
	uint8_t *b = p;
	size_t got = 0;

	if (fixed_wall) {
		for (size_t i = 0; i < n; i++) {
			fixed_rng ^= fixed_rng << 13;
			fixed_rng ^= fixed_rng >> 7;
			fixed_rng ^= fixed_rng << 17;
			b[i] = (uint8_t)fixed_rng;
		}
		return;
	}
	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < n) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, b + got, n - got) != (ssize_t)(n - got))
			lure_die(1, "RANDOM error=no_entropy");
		close(fd);
	}
}

void
lure_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("lure: ", stderr);
	va_start(ap, fmt);
	fmt_vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = saved;
}

void
lure_die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("lure: ", stderr);
	va_start(ap, fmt);
	fmt_vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

long
lure_digits(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + s[i] - '0';
	}
	return v;
}

long
lure_days_from_civil(long y, long m, long d)
{
	long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void
lure_civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}
