/* emu_registry.c: the table of compiled-in emulators, generated from EMUS. */
#include <string.h>

#include "emu.h"

#define EMU(n) extern const struct emulator emu_##n;
#include "emu_list.h"
#undef EMU

#define EMU(n) &emu_##n,
const struct emulator *const emu_registry[] = {
#include "emu_list.h"
        NULL};
#undef EMU

const char *const emu_close_reason_name[EMU_CLOSE__MAX] = {
        [EMU_CLOSE_PEER] = "peer",
        [EMU_CLOSE_EMU] = "emulator",
        [EMU_CLOSE_IDLE] = "idle_timeout",
        [EMU_CLOSE_SESSION] = "session_timeout",
        [EMU_CLOSE_INPUT] = "input_cap",
        [EMU_CLOSE_ERROR] = "error",
        [EMU_CLOSE_SHUTDOWN] = "shutdown",
        [EMU_CLOSE_HANDSHAKE] = "handshake_timeout",
        [EMU_CLOSE_EVICTED] = "evicted",
        [EMU_CLOSE_REQUEST] = "request_timeout",
};

const struct emulator *
emu_find(const char *name)
{
	for (size_t i = 0; emu_registry[i]; i++)
		if (strcmp(emu_registry[i]->name, name) == 0)
			return emu_registry[i];
	return NULL;
}
