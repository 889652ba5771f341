/* test_lineedit.c: the pty line editor (src/lineedit.c) as known-answer
 * vectors: typed bytes in, echo and the line out, in the shapes Linux's
 * n_tty gives (the same ones test/it/test_telnet_busybox.py checks live
 * through BusyBox telnetd). */
#include "lineedit.h"
#include "unit.h"

static uint8_t echo[1024];
static size_t echo_len;

static void
out(void *arg, const void *p, size_t n)
{
	(void)arg;
	if (echo_len + n <= sizeof echo) {
		memcpy(echo + echo_len, p, n);
		echo_len += n;
	}
}

struct vec {
	const char *name;
	const char *in; /* typed */
	const char *echo; /* expected echo */
	const char *line; /* expected line when it ends (or at the end) */
	uint32_t col0; /* column the line starts at */
	uint8_t bs_erase;
};

static const struct vec vecs[] = {
        {"plain", "ls -l\r", "ls -l\r\n", "ls -l", 0, 0},
        {"del", "lx\x7fs\r", "lx\b \bs\r\n", "ls", 0, 0},
        {"del ctrl", "a\x01\x7f\r", "a^A\b \b\b \b\r\n", "a", 0, 0},
        {"del empty",
                "\x7f\x7f"
                "a\n",
                "a\r\n", "a", 0, 0},
        {"kill", "abc\x15x\r", "abc\b \b\b \b\b \bx\r\n", "x", 0, 0},
        {"werase",
                "echo foo bar\x17"
                "baz\r",
                "echo foo bar\b \b\b \b\b \bbaz\r\n", "echo foo baz", 0, 0},
        {"werase blanks", "a b  \x17\r", "a b  \b \b\b \b\b \b\r\n", "a ", 0,
                0},
        {"tab", "\tx\r", "        x\r\n", "\tx", 0, 0},
        {"tab after prompt", "\tx\r", "   x\r\n", "\tx", 13, 0},
        {"tab erase", "ab\t\x7f\r", "ab      \b\b\b\b\b\b\r\n", "ab", 0, 0},
        {"tab erase after prompt", "ab\t\x7f\r", "ab \b\r\n", "ab", 13, 0},
        {"lnext", "a\x16\x03\r", "a^\b^C\r\n", "a\x03", 0, 0},
        {"lnext cr", "\x16\rx\n", "^\b^Mx\r\n", "\rx", 0, 0},
        {"reprint",
                "ab\x12"
                "c\r",
                "ab^R\r\nabc\r\n", "abc", 0, 0},
        {"stop start",
                "a\x13\x11"
                "b\r",
                "ab\r\n", "ab", 0, 0},
        {"esc", "\x1b[A\r", "^[[A\r\n", "\x1b[A", 0, 0},
        {"bs plain", "ab\x08\r", "ab^H\r\n", "ab\x08", 0, 0},
        {"bs erases", "ab\x08\r", "ab\b \b\r\n", "a", 0, 1},
        {"high bytes", "\xc3\xa9\xff\r", "\xc3\xa9\xff\r\n", "\xc3\xa9\xff", 0,
                0},
};

static enum ledit_key
type(struct ledit *ed, const char *in)
{
	enum ledit_key k = LEDIT_NONE;

	for (; *in && k != LEDIT_EOL; in++)
		k = ledit_key(ed, (uint8_t)*in);
	return k;
}

static void
test_vectors(void)
{
	static uint8_t buf[64];
	struct ledit ed;

	for (size_t v = 0; v < sizeof vecs / sizeof vecs[0]; v++) {
		const struct vec *t = &vecs[v];
		ledit_init(&ed, buf, sizeof buf);
		ed.out = out;
		ed.echo = 1;
		ed.bs_erase = t->bs_erase;
		ed.col = t->col0;
		echo_len = 0;
		(void)type(&ed, t->in);
		if (echo_len != strlen(t->echo) ||
		        memcmp(echo, t->echo, echo_len) != 0 ||
		        ledit_kept(&ed) != strlen(t->line) ||
		        memcmp(buf, t->line, ledit_kept(&ed)) != 0)
			unit_fail(__FILE__, __LINE__, t->name);
	}
}

static void
test_keys(void)
{
	static uint8_t buf[16];
	struct ledit ed;

	ledit_init(&ed, buf, sizeof buf);
	ed.out = out;
	echo_len = 0;
	CHECK(ledit_key(&ed, 0x04) == LEDIT_EOF);
	CHECK(ledit_push(&ed) == 0); /* nothing pending: end of file */
	CHECK(ledit_key(&ed, 'a') == LEDIT_NONE);
	CHECK(ledit_key(&ed, 0x04) == LEDIT_EOF);
	CHECK(ledit_push(&ed) == 1);
	CHECK(ledit_push(&ed) == 0);
	CHECK(ledit_key(&ed, 0x7f) == LEDIT_NONE);
	CHECK(ed.len == 1); /* pushed bytes are not erasable */
	CHECK(ledit_key(&ed, 0x03) == LEDIT_SIGNAL);
	CHECK(ledit_key(&ed, 0x1c) == LEDIT_SIGNAL);
	CHECK(ledit_key(&ed, 0x1a) == LEDIT_SIGNAL);
	CHECK(ledit_key(&ed, '\n') == LEDIT_EOL);
	CHECK(echo_len == 0); /* echo off: nothing */
	CHECK(ed.len == 1);
	/* ^R with echo off is a plain byte */
	CHECK(ledit_key(&ed, 0x12) == LEDIT_NONE);
	CHECK(ed.len == 2 && buf[1] == 0x12);
}

static void
test_long(void)
{
	static uint8_t buf[4];
	struct ledit ed;

	ledit_init(&ed, buf, sizeof buf);
	ed.out = out;
	ed.echo = 1;
	echo_len = 0;
	CHECK(type(&ed, "abcdefgh") == LEDIT_NONE);
	CHECK(ed.len == 8 && ledit_kept(&ed) == 4);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	CHECK(echo_len == 8); /* the tty echoes past what is kept */
	CHECK(type(&ed, "\x15") == LEDIT_NONE);
	CHECK(ed.len == 0 && echo_len == 8 + 8 * 3);
}

static void
test_track(void)
{
	static uint8_t buf[8];
	struct ledit ed;

	ledit_init(&ed, buf, sizeof buf);
	ed.out = out;
	ledit_track(&ed, (const uint8_t *)"ab\tc\b", 5);
	CHECK(ed.col == 8);
	ledit_track(&ed, (const uint8_t *)"x\r\nyz", 5);
	CHECK(ed.col == 2);
	echo_len = 0;
	ledit_echo(&ed, 0x03);
	CHECK(echo_len == 2 && memcmp(echo, "^C", 2) == 0 && ed.col == 4);
}

const struct unit_test unit_lineedit[] = {
        {"vectors", test_vectors},
        {"keys", test_keys},
        {"long", test_long},
        {"track", test_track},
        {0, 0},
};
