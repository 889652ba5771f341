/* propdrive: feed framed inputs to emulators, print every event line.
 * usage: propdrive EMU... < frames; a frame is [emu index:u8][len:u32 LE]
 * [bytes]. Each frame is one connection on the emulator's first persona
 * port; its bytes arrive in pseudo-random chunk sizes (1..512, seeded by the
 * frame), with a 5 s pause where a chunk boundary falls on a '\n'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "persona.h"

static struct harness h;
static uint8_t data[1 << 22];
static char ev[1 << 21];
static uint8_t out[1 << 20];

static void
drain(void)
{
	size_t n = harness_take_events(&h, ev, sizeof ev);

	fwrite(ev, 1, n, stdout);
	harness_take_output(&h, out, sizeof out);
}

int
main(int argc, char **argv)
{
	uint8_t hdr[5];
	uint16_t port[16] = {0};

	if (argc < 2 || argc > 17)
		return 2;
	harness_global(1767323045000LL);
	for (int a = 1; a < argc; a++)
		for (size_t p = 0; p < persona_nports; p++)
			if (strcmp(persona_ports[p].emu, argv[a]) == 0) {
				port[a - 1] = persona_ports[p].port;
				break;
			}
	while (fread(hdr, 1, 5, stdin) == 5) {
		size_t len = hdr[1] | hdr[2] << 8 | (size_t)hdr[3] << 16 |
		             (size_t)hdr[4] << 24;
		uint32_t rng = (uint32_t)len * 2654435761u + hdr[0];

		if (hdr[0] >= argc - 1 || len > sizeof data ||
		        fread(data, 1, len, stdin) != len)
			return 2;
		if (harness_open(&h, argv[hdr[0] + 1], port[hdr[0]], 0) < 0)
			return 2;
		for (size_t i = 0; i < len && !h.closed;) {
			size_t step;
			rng = rng * 1103515245u + 12345u;
			step = 1 + (rng >> 16) % 512;
			if (step > len - i)
				step = len - i;
			harness_send(&h, data + i, step);
			i += step;
			if (data[i - 1] == '\n')
				harness_tick(&h, 5000);
			drain();
		}
		harness_close(&h, EMU_CLOSE_PEER);
		drain();
	}
	return 0;
}
