/* fuzz_shell.c: libFuzzer target for the fake shell (src/shell*.c). The
 * input is split on '\n' into command lines run one after another on one
 * session (the first byte picks the user: root or another, the
 * output cap, and the session's kind: SSH exec, SSH with or without a
 * pty, telnet). Aborts when an event is not valid JSON, when the output
 * passes its cap, or when the session's state goes out of its bounds. */
#include <stdlib.h>
#include <string.h>

#include "emu_ctx.h"
#include "event.h"
#include "harness.h"
#include "json.h"
#include "shell.h"

static struct shell sh;
static struct emu_ctx ctx;
static uint8_t out[SHELL_OUT + 64];
static char ev[EVENT_LINE_MAX + 1];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	size_t i = 1, cap;

	if (!init) {
		harness_global(1767323045000LL);
		init = 1;
	}
	if (!size)
		return 0;
	memset(&ctx, 0, sizeof ctx);
	shell_init(&sh, data[0] & 1 ? "admin" : "root", data[0] & 1 ? 5 : 4);
	/* an SSH exec request, an SSH session (with a pty), or telnet's */
	sh.exec = (uint8_t)(data[0] >> 2 & 1);
	sh.ssh = (uint8_t)((data[0] >> 3) % 3);
	memcpy(ctx.src_ip, "192.0.2.1", 10);
	memcpy(ctx.dst_ip, "198.51.100.1", 13);
	ctx.src_port = 40000;
	ctx.persona_port = 22;
	cap = data[0] & 2 ? 64 : SHELL_OUT + 64;
	while (i <= size) {
		const uint8_t *nl = memchr(data + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
		struct event *e = event_begin("command", "telnet");
		size_t outlen = 12345, k;
		enum shell_result r;
		char p[256];

		memset(out + SHELL_OUT, 0x5a, 64);
		r = shell_run(&sh, &ctx, e, data + i, n, out, cap, &outlen);
		k = event_encode(e, ev, sizeof ev, 1);
		event_discard(e);
		if (!k || ev[k - 1] != '\n' || json_check(ev, k - 1) != -1)
			abort();
		if (outlen > SHELL_OUT || outlen > cap)
			abort();
		for (int j = 0; j < 64 && cap > SHELL_OUT; j++)
			if (out[SHELL_OUT + j] != 0x5a)
				abort();
		if (sh.depth > 8 || !memchr(sh.cwd, 0, sizeof sh.cwd) ||
		        sh.cwd[0] != '/' || !memchr(sh.user, 0, sizeof sh.user))
			abort();
		if (shell_prompt(&sh, &ctx, p, sizeof p) > sizeof p)
			abort();
		if (r == SHELL_EXIT)
			break;
		i += n + 1;
	}
	return 0;
}
