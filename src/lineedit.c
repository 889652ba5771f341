/* lineedit.c: a pty's canonical-mode line editor (see lineedit.h), after
 * Linux's n_tty (n_tty_receive_char_special(), eraser(), echo_char(),
 * reprint()). Only the echo and the line: no I/O, no signals. */
#include "lineedit.h"

#include "lure.h"

/* Control characters of the pty (Linux defaults). */
enum {
	K_INTR = 0x03,
	K_EOF = 0x04,
	K_BS = 0x08,
	K_START = 0x11,
	K_REPRINT = 0x12,
	K_STOP = 0x13,
	K_KILL = 0x15,
	K_LNEXT = 0x16,
	K_WERASE = 0x17,
	K_SUSP = 0x1a,
	K_QUIT = 0x1c,
	K_ERASE = 0x7f,
};

enum erase_kind { E_CHAR, E_WORD, E_LINE };

static int
is_ctrl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* The kernel's isalnum() (Latin-1 letters count) or '_'. */
static int
is_word(uint8_t c)
{
	return (c >= '0' && c <= '9') ||
	       ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
	       (c >= 0xc0 && c != 0xd7 && c != 0xf7);
}

/* Byte i of the line; beyond what is kept, a plain letter. */
static uint8_t
at(const struct ledit *ed, uint32_t i)
{
	return i < ed->cap ? ed->buf[i] : 'x';
}

void
ledit_init(struct ledit *ed, uint8_t *buf, uint32_t cap)
{
	ed->buf = buf;
	ed->cap = cap;
	ed->col = ed->col0 = 0;
	ed->echo = 0;
	ledit_reset(ed);
}

void
ledit_reset(struct ledit *ed)
{
	ed->len = ed->canon = 0;
	ed->lnext = 0;
}

uint32_t
ledit_kept(const struct ledit *ed)
{
	return LURE_MIN(ed->len, ed->cap);
}

void
ledit_track(struct ledit *ed, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			ed->col = 0;
		else if (p[i] == '\b')
			ed->col -= ed->col > 0;
		else if (p[i] == '\t')
			ed->col = (ed->col | 7) + 1;
		else if (p[i] >= 0x20 && p[i] != 0x7f)
			ed->col++;
	}
}

void
ledit_echo(struct ledit *ed, uint8_t c)
{
	static const char spaces[] = "        ";

	if (c == '\t') {
		unsigned n = 8 - (ed->col & 7);
		ed->out(ed->arg, spaces, n);
		ed->col += n;
	} else if (is_ctrl(c)) {
		uint8_t two[2] = {'^', (uint8_t)(c ^ 0x40)};
		ed->out(ed->arg, two, 2);
		ed->col += 2;
	} else {
		ed->out(ed->arg, &c, 1);
		ed->col++;
	}
}

static void
echo_erase(struct ledit *ed, uint8_t c)
{
	static const char bs[] = "\b\b\b\b\b\b\b\b";
	unsigned n;

	if (c == '\t') {
		/* back to the tab's column: count what follows the line's
		 * start or the previous tab (n_tty's eraser) */
		uint32_t i = ed->len, num = 0;
		int after_tab = 0;
		if (i > ed->cap) {
			num = i - LURE_MAX(ed->canon, ed->cap);
			i = LURE_MAX(ed->canon, ed->cap);
		}
		for (; i > ed->canon; i--) {
			uint8_t d = at(ed, i - 1);
			if (d == '\t') {
				after_tab = 1;
				break;
			}
			num += is_ctrl(d) ? 2 : 1;
		}
		if (!after_tab)
			num += ed->col0;
		n = 8 - (num & 7);
		ed->out(ed->arg, bs, n);
		ed->col -= LURE_MIN(ed->col, n);
		return;
	}
	for (n = is_ctrl(c) ? 2 : 1; n > 0; n--) {
		ed->out(ed->arg, "\b \b", 3);
		ed->col -= ed->col > 0;
	}
}

static void
put(struct ledit *ed, uint8_t c)
{
	if (ed->echo) {
		if (ed->len == ed->canon)
			ed->col0 = ed->col;
		ledit_echo(ed, c);
	}
	if (ed->len < ed->cap)
		ed->buf[ed->len] = c;
	if (ed->len < UINT32_MAX)
		ed->len++;
}

static void
erase(struct ledit *ed, enum erase_kind kind)
{
	int seen_word = 0;

	while (ed->len > ed->canon) {
		uint8_t c = at(ed, ed->len - 1);
		if (kind == E_WORD) {
			if (is_word(c))
				seen_word = 1;
			else if (seen_word)
				break;
		}
		ed->len--;
		if (ed->echo)
			echo_erase(ed, c);
		if (kind == E_CHAR)
			break;
	}
}

static void
reprint(struct ledit *ed)
{
	ledit_echo(ed, K_REPRINT);
	ed->out(ed->arg, "\r\n", 2);
	ed->col = 0;
	for (uint32_t i = ed->canon; i < ledit_kept(ed); i++)
		ledit_echo(ed, ed->buf[i]);
}

int
ledit_push(struct ledit *ed)
{
	if (ed->len <= ed->canon)
		return 0;
	ed->canon = ed->len;
	return 1;
}

enum ledit_key
ledit_key(struct ledit *ed, uint8_t c)
{
	if (ed->lnext) {
		ed->lnext = 0;
		put(ed, c);
		return LEDIT_NONE;
	}
	if (c == K_BS && ed->bs_erase) {
		erase(ed, E_CHAR);
		return LEDIT_NONE;
	}
	switch (c) {
	case '\r': /* ICRNL */
	case '\n':
		if (ed->echo) {
			ed->out(ed->arg, "\r\n", 2);
			ed->col = 0;
		}
		return LEDIT_EOL;
	case K_ERASE: erase(ed, E_CHAR); return LEDIT_NONE;
	case K_WERASE: erase(ed, E_WORD); return LEDIT_NONE;
	case K_KILL: erase(ed, E_LINE); return LEDIT_NONE;
	case K_LNEXT:
		ed->lnext = 1;
		if (ed->echo)
			ed->out(ed->arg, "^\b", 2);
		return LEDIT_NONE;
	case K_REPRINT:
		if (!ed->echo)
			break;
		reprint(ed);
		return LEDIT_NONE;
	case K_EOF: return LEDIT_EOF;
	case K_START:
	case K_STOP: return LEDIT_NONE;
	case K_INTR:
	case K_QUIT:
	case K_SUSP: return LEDIT_SIGNAL;
	}
	put(ed, c);
	return LEDIT_NONE;
}
