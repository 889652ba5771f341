/* transcript: run a .t script through an emulator and print what happened.
 * Script lines:  "open <emulator> <port> [udp]", "> <bytes, C escapes>"
 * (client sends), "+ <ms>" (time passes), "close" (client closes), "# ...".
 * Output: the script's own lines, "< ..." for bytes the server sent (escaped,
 * cut after each \n), "= {...}" for each event, "! closed" when the
 * emulator closed. Clock pinned to 2026-01-02T03:04:05Z. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct harness h;

static void
print_escaped(const uint8_t *p, size_t n)
{
	int at_start = 1;

	for (size_t i = 0; i < n; i++) {
		if (at_start)
			fputs("< ", stdout), at_start = 0;
		if (p[i] == '\n')
			fputs("\\n\n", stdout), at_start = 1;
		else if (p[i] == '\r')
			fputs("\\r", stdout);
		else if (p[i] == '\t')
			fputs("\\t", stdout);
		else if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	if (!at_start)
		fputs("\n", stdout);
}

static void
flush(void)
{
	static uint8_t out[1 << 20];
	static char ev[1 << 20];
	size_t n = harness_take_output(&h, out, sizeof out);
	char *line, *save = NULL;

	print_escaped(out, n);
	n = harness_take_events(&h, ev, sizeof ev - 1);
	ev[n] = 0;
	for (line = strtok_r(ev, "\n", &save); line;
	        line = strtok_r(NULL, "\n", &save))
		printf("= %s\n", line);
}

static size_t
unescape(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s != '\\') {
			out[n++] = (uint8_t)*s;
			continue;
		}
		switch (*++s) {
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case '0': out[n++] = 0; break;
		case '\\': out[n++] = '\\'; break;
		case 'x': {
			char hx[3] = {s[1], s[2], 0};
			out[n++] = (uint8_t)strtoul(hx, NULL, 16);
			s += 2;
			break;
		}
		case 0: return n;
		default: out[n++] = (uint8_t)*s;
		}
	}
	return n;
}

int
main(int argc, char **argv)
{
	static char line[1 << 16];
	static uint8_t bytes[1 << 16];
	FILE *f;
	int was_closed = 0;

	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: transcript FILE.t\n");
		return 2;
	}
	harness_global(1767323045000LL);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || !line[0])
			continue;
		printf("%s\n", line);
		if (strncmp(line, "open ", 5) == 0) {
			char name[64], udp[8] = "";
			unsigned port;
			if (sscanf(line + 5, "%63s %u %7s", name, &port, udp) <
			                2 ||
			        harness_open(&h, name, (uint16_t)port,
			                strcmp(udp, "udp") == 0) < 0) {
				fprintf(stderr, "%s: bad open: %s\n", argv[1],
				        line);
				return 2;
			}
			was_closed = 0;
		} else if (strncmp(line, "> ", 2) == 0) {
			size_t n = unescape(line + 2, bytes);
			harness_send(&h, bytes, n);
		} else if (strncmp(line, "+ ", 2) == 0) {
			harness_tick(&h, atol(line + 2));
		} else if (strcmp(line, "close") == 0) {
			harness_close(&h, EMU_CLOSE_PEER);
		} else {
			fprintf(stderr, "%s: bad line: %s\n", argv[1], line);
			return 2;
		}
		flush();
		if (h.closed && !was_closed)
			printf("! closed\n"), was_closed = 1;
	}
	fclose(f);
	return 0;
}
