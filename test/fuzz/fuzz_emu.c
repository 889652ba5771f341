/* fuzz_emu.c: libFuzzer target for one emulator (FUZZ_EMU, set by make).
 * Input: a sequence of chunks [len:u8][bytes]; len 0 means "5 s pass"
 * (timers fire), 255 the data channel's next step (harness_side()). The
 * first byte picks one of the emulator's persona ports.
 * Every event line the emulator emits must be valid JSON: else abort. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"
#include "persona.h"

#ifndef FUZZ_EMU
#error "build with -DFUZZ_EMU='\"name\"'"
#endif

static struct harness h;
static uint8_t out[1 << 20];
static char ev[1 << 20];

static void
check_events(void)
{
	size_t n = harness_take_events(&h, ev, sizeof ev);
	size_t start = 0;

	harness_take_output(&h, out, sizeof out);
	for (size_t i = 0; i < n; i++)
		if (ev[i] == '\n') {
			if (json_check(ev + start, i - start) != -1)
				abort();
			start = i + 1;
		}
	if (start != n)
		abort(); /* a line without its newline */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	uint16_t ports[16];
	size_t nports = 0, i = 1;

	if (!init) {
		harness_global(1767323045000LL);
		init = 1;
	}
	for (size_t p = 0; p < persona_nports && nports < 16; p++)
		if (strcmp(persona_ports[p].emu, FUZZ_EMU) == 0)
			ports[nports++] = persona_ports[p].port;
	if (!nports || !size)
		return 0;
	if (harness_open(&h, FUZZ_EMU, ports[data[0] % nports], 0) < 0)
		abort();
	harness_sides(&h);
	while (i < size && !h.closed) {
		size_t len = data[i++];
		if (len == 0) {
			harness_tick(&h, 5000);
		} else if (len == 255) {
			harness_side(&h);
		} else {
			len = len > size - i ? size - i : len;
			harness_send(&h, data + i, len);
			i += len;
		}
		check_events();
	}
	harness_close(&h, EMU_CLOSE_PEER);
	check_events();
	return 0;
}
