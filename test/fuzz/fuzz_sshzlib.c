/* fuzz_sshzlib.c: libFuzzer target for the zlib@openssh.com inflater
 * (src/sshzlib.c). Input: packets [len:u8][bytes] fed to one context in
 * turn, as an SSH connection's compressed payloads arrive. Nothing may read
 * or write out of bounds; the output never exceeds its cap. */
#include <stdint.h>
#include <stdlib.h>

#include "sshzlib.h"

static uint8_t out[4096];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshzlib *z = sshzlib_get();
	size_t i = 0;

	if (!z)
		abort(); /* every run gives its context back */
	while (i < size) {
		size_t n = data[i++];
		long r;
		if (n > size - i)
			n = size - i;
		r = sshzlib_inflate(z, data + i, n, out, sizeof out);
		if (r > (long)sizeof out)
			abort();
		if (r < 0)
			break;
		i += n;
	}
	sshzlib_put(z);
	return 0;
}
