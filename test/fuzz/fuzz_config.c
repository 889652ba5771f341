/* fuzz_config.c: libFuzzer target for the config parser (JSON + keys). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1, saved = -1;
	static char buf[1 << 16];
	struct config c;
	int r;

	if (devnull < 0) { /* errors are the normal outcome: keep them quiet */
		devnull = open("/dev/null", O_WRONLY);
		saved = dup(2);
	}
	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	fflush(stderr);
	dup2(devnull, 2);
	r = config_parse(&c, "fuzz.json", buf, size);
	fflush(stderr);
	dup2(saved, 2);
	if (r == 0) {
		/* a config that parsed holds sane values */
		if (!c.max_conns || !c.nlisten ||
		        c.nlisten > CONFIG_MAX_LISTEN || !c.sensor_id[0] ||
		        !c.output_file[0])
			abort();
	}
	return 0;
}
