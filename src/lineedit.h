/* lineedit.h: the terminal line editor of a login or shell session, as a
 * Linux pty in canonical mode does it (n_tty with the defaults plus ICRNL
 * ONLCR XTABS, ECHOCTL ECHOE ECHOKE): one typed byte at a time, the echo
 * written through the caller's output function, the line kept in the
 * caller's buffer. Telnet (emu/telnet.c, compared byte for byte with
 * BusyBox telnetd on a real pty) and SSH sessions with a pty (src/sshchan.c)
 * use it; what a line end, ^D or a signal character means is theirs.
 *
 * Keys: CR and LF end the line (echo CR LF); DEL erases a character (BS SP
 * BS, twice for one echoed as ^X; a tab back to its column), ^W a word, ^U
 * the line; ^V takes the next byte as it is (echo "^" BS); ^R reprints the
 * line after "^R" CR LF; ^S and ^Q vanish; anything else is kept and
 * echoed (controls as ^X, a tab as spaces to the next 8-column stop). Only
 * cap bytes of a line are kept (len counts them all; a reprint or a tab
 * erase beyond them is approximate). */
#ifndef LURE_LINEEDIT_H
#define LURE_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

enum ledit_key {
	LEDIT_NONE, /* taken (echoed, edited) */
	LEDIT_EOL, /* CR or LF: the line ended, its CR LF echoed */
	LEDIT_EOF, /* ^D: nothing done (see ledit_push) */
	LEDIT_SIGNAL /* ^C ^\ ^Z: nothing done, nothing echoed */
};

struct ledit {
	/* the terminal: every echo byte goes through out(arg, ...) */
	void (*out)(void *arg, const void *p, size_t n);
	void *arg;
	uint8_t *buf; /* the line: buf[0..min(len, cap)) */
	uint32_t cap;
	uint32_t len; /* bytes typed (may exceed cap) */
	uint32_t canon; /* bytes pushed by ^D: no longer erasable */
	uint32_t col, col0; /* output column; column where the line began */
	uint8_t echo; /* echo on (off: edit silently) */
	uint8_t lnext; /* ^V came: the next byte is plain */
	uint8_t bs_erase; /* ^H erases as DEL does (a readline shell) */
};

/* The line is buf[0..cap); empty, echo off, column 0. */
void
ledit_init(struct ledit *ed, uint8_t *buf, uint32_t cap);

/* An empty line (the column stays). */
void
ledit_reset(struct ledit *ed);

/* One typed byte. */
enum ledit_key
ledit_key(struct ledit *ed, uint8_t c);

/* ^D with bytes pending: they are pushed (no longer erasable), 1; with
 * nothing pending 0 (end of file). */
int
ledit_push(struct ledit *ed);

/* Echo c as the tty does (^X for controls, a tab as spaces), echo on or
 * not. */
void
ledit_echo(struct ledit *ed, uint8_t c);

/* Follow the column through other output p[0..n) (OPOST), for tabs. */
void
ledit_track(struct ledit *ed, const uint8_t *p, size_t n);

/* Bytes of the line kept in buf. */
uint32_t
ledit_kept(const struct ledit *ed);

#endif
