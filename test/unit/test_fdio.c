/* test_fdio.c: src/fdio.c's fgets-like reader (long lines, no final
 * newline, buffer refills), its buffered writer, and the passwd lookup that
 * replaces getpwnam (first match, malformed and over-long lines). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fdio.h"
#include "unit.h"

/* a temporary file holding n bytes of s; its path in path[32] */
static int
file_of(char *path, const char *s, size_t n)
{
	int fd;

	strcpy(path, "/tmp/lure-fdio-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, s, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void
test_gets(void)
{
	static char text[3000], got[3000];
	char path[32], line[16];
	struct fdio f;
	size_t n = 0;

	/* lines of every length 0..40 then a 1,200-byte one (buffer refills
	 * inside a line) and a last line without '\n' */
	for (int len = 0; len <= 40; len++) {
		memset(text + n, 'a' + len % 26, (size_t)len);
		n += (size_t)len;
		text[n++] = '\n';
	}
	memset(text + n, 'z', 1200);
	n += 1200;
	text[n++] = '\n';
	memcpy(text + n, "end", 3);
	n += 3;
	CHECK(file_of(path, text, n) == 0);
	/* read back with a 16-byte line buffer: what fgets gives */
	CHECK(fdio_open(&f, path) == 0);
	got[0] = 0;
	size_t k = 0;
	while (fdio_gets(&f, line, sizeof line)) {
		CHECK(strlen(line) <= sizeof line - 1);
		CHECK(strlen(line) == sizeof line - 1 || strchr(line, '\n') ||
		        strcmp(line, "end") == 0);
		memcpy(got + k, line, strlen(line));
		k += strlen(line);
	}
	CHECK(fdio_gets(&f, line, sizeof line) == NULL);
	fdio_close(&f);
	CHECK(k == n && memcmp(got, text, n) == 0);
	/* fgets agrees line by line */
	FILE *fp = fopen(path, "r");
	char a[16];
	CHECK(fp && fdio_open(&f, path) == 0);
	for (;;) {
		char *x = fgets(a, sizeof a, fp), *y = fdio_gets(&f, line, 16);
		CHECK((x == NULL) == (y == NULL));
		if (!x)
			break;
		CHECK_STR(a, line);
	}
	fclose(fp);
	fdio_close(&f);
	unlink(path);
	CHECK(fdio_open(&f, "/nonexistent/lure-fdio") < 0);
}

static void
test_put(void)
{
	char path[32], back[2000];
	struct fdio f;
	int fd;

	CHECK(file_of(path, "", 0) == 0);
	CHECK((fd = open(path, O_WRONLY | O_TRUNC)) >= 0);
	fdio_init(&f, fd);
	for (int i = 0; i < 300; i++)
		fdio_puts(&f, "abcde");
	fdio_put(&f, "xyz", 2);
	CHECK(fdio_flush(&f) == 0);
	fdio_close(&f);
	CHECK((fd = open(path, O_RDONLY)) >= 0);
	CHECK(fdio_read_all(fd, back, sizeof back) == 1502);
	close(fd);
	for (int i = 0; i < 300; i++)
		CHECK(memcmp(back + 5 * i, "abcde", 5) == 0);
	CHECK(memcmp(back + 1500, "xy", 2) == 0);
	unlink(path);
	/* a failed write is reported at the flush */
	CHECK((fd = open("/dev/null", O_RDONLY)) >= 0);
	fdio_init(&f, fd);
	for (int i = 0; i < 300; i++)
		fdio_puts(&f, "abcde");
	CHECK(fdio_flush(&f) < 0);
	fdio_close(&f);
}

static void
test_passwd(void)
{
	static char text[4096];
	char path[32];
	uid_t u = 0;
	gid_t g = 0;
	size_t n;

	strcpy(text, "# comment\n"
	             "root:x:0:0:root:/root:/bin/sh\n"
	             "lurex:x:7:7::/:/bin/false\n" /* a longer name */
	             "bad:x:12x:5::/:/bin/false\n"
	             "bad:x:13:6::/:/bin/false\n" /* first good line wins */
	             "nobody:x:65534:65533:nobody:/nonexistent:/bin/false\n");
	n = strlen(text);
	/* a 2,000-byte gecos, and in it, where fdio_passwd's 1,024-byte line
	 * buffer ends, what looks like a passwd line: not one */
	memcpy(text + n, "long:x:20:20:", 13);
	memset(text + n + 13, 'g', 2000);
	memcpy(text + n + 1023, "lure:x:1:1:", 11);
	n += 13 + 2000;
	memcpy(text + n, ":/:/bin/sh\nlure:x:101:102::/:/bin/false\n", 40);
	n += 40;
	CHECK(file_of(path, text, n) == 0);
	CHECK(fdio_passwd(path, "root", &u, &g) == 0 && u == 0 && g == 0);
	CHECK(fdio_passwd(path, "nobody", &u, &g) == 0 && u == 65534 &&
	        g == 65533);
	CHECK(fdio_passwd(path, "bad", &u, &g) == 0 && u == 13 && g == 6);
	CHECK(fdio_passwd(path, "long", &u, &g) == 0 && u == 20 && g == 20);
	CHECK(fdio_passwd(path, "lure", &u, &g) == 0 && u == 101 && g == 102);
	CHECK(fdio_passwd(path, "lur", &u, &g) < 0);
	CHECK(fdio_passwd(path, "missing", &u, &g) < 0);
	CHECK(fdio_passwd("/nonexistent/passwd", "root", &u, &g) < 0);
	unlink(path);
}

const struct unit_test unit_fdio[] = {
        {"gets", test_gets},
        {"put", test_put},
        {"passwd", test_passwd},
        {NULL, NULL},
};
