/* fuzz_bearssl.c: libFuzzer target for the parsers of src/tls_bearssl.c
 * (included whole, to reach its static functions): the CA file loader
 * (PEM or DER -> trust anchors, through a memfd) and the walk of a leaf
 * certificate's subjectAltName for an iPAddress. */
#include <sys/mman.h>

#include "../../src/tls_bearssl.c"

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint8_t ip4[4] = {127, 0, 0, 1};
	static const uint8_t ip6[16] = {[15] = 1};
	struct tls_conf c = {0};
	char path[64], err[256];
	int fd;

	(void)san_has_ip(d, n, ip4, sizeof ip4);
	(void)san_has_ip(d, n, ip6, sizeof ip6);
	fd = memfd_create("ca", 0);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	c.ca_file = path;
	ready = 0;
	if (tls_global_init(&c, err, sizeof err) == 0 &&
	        (n_anchors == 0 || heap_len > sizeof heap))
		__builtin_trap(); /* success means at least one anchor */
	close(fd);
	return 0;
}
