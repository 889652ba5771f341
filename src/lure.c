/* lure.c: clock, randomness, logging and the -t flag shared by every module. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

/* "lure: " fmt "\n" in one write(2), cut to 1 KiB. */
static void
say(const char *fmt, va_list ap)
{
	char b[1024];
	int n = fmt_vsnprintf(b + 6, sizeof b - 7, fmt, ap);

	memcpy(b, "lure: ", 6);
	n = n < 0 ? 0 : n > (int)sizeof b - 8 ? (int)sizeof b - 8 : n;
	b[6 + n] = '\n';
	fmt_dprintf(2, "%.*s", 7 + n, b);
}

void
lure_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	errno = saved;
}

void
lure_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
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
