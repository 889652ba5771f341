/* test_des.c: DES against published known answers (the worked example of
 * J. Orlin Grabbe's "The DES Algorithm Illustrated", FIPS 81's "Now is t"
 * example, the all-zero key and block), and VNC responses against the test
 * hashes of John the Ripper's vnc format ($vnc$*CHALLENGE*RESPONSE). */
#include "des.h"
#include "fmt.h"
#include "unit.h"

static void
unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (uint8_t)(fmt_hexval(h[2 * i]) * 16 +
		                   fmt_hexval(h[2 * i + 1]));
}

static int
kat(const char *key, const char *pt, const char *ct)
{
	uint8_t k[8], p[8], c[8], out[8];

	unhex(key, k, 8);
	unhex(pt, p, 8);
	unhex(ct, c, 8);
	des_encrypt(k, p, out);
	return memcmp(out, c, 8) == 0;
}

static void
test_known_answers(void)
{
	CHECK(kat("133457799BBCDFF1", "0123456789ABCDEF", "85E813540F0AB405"));
	CHECK(kat("0123456789ABCDEF", "4E6F772069732074", "3FA40E8A984D4815"));
	CHECK(kat("0000000000000000", "0000000000000000", "8CA64DE9C1B123A7"));
	CHECK(kat("FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFF", "7359B2163E4EDC58"));
	/* parity bits ignored */
	CHECK(kat("0101010101010101", "0000000000000000", "8CA64DE9C1B123A7"));
}

static int
vnc(const char *chal, const char *resp, const char *pw)
{
	uint8_t c[16], r[16], out[16];

	unhex(chal, c, 16);
	unhex(resp, r, 16);
	des_vnc_response(pw, strlen(pw), c, out);
	return memcmp(out, r, 16) == 0;
}

static void
test_vnc(void)
{
	CHECK(vnc("7963F9BB7BA6A42A085763808156F570",
	        "475B10D05648E4110D77F03916106F98", "123"));
	CHECK(vnc("84076F040550EEA9341967633B5F3855",
	        "DD96D21781A70DA49443279975404DD0", "pass1234"));
	CHECK(vnc("ADDC021F444F999B8E27144C0DCE7389",
	        "AFAF1BB57588784333962A124668A2C6", "openwall"));
	/* only the first 8 bytes count */
	CHECK(vnc("2F7532B3EFD17EEA5DD3A0949FFDF1D8",
	        "0EB42D4D9AC1EF1B6EF6647B9594A621", "1234567890"));
	CHECK(!vnc("7963F9BB7BA6A42A085763808156F570",
	        "475B10D05648E4110D77F03916106F98", "124"));
}

const struct unit_test unit_des[] = {
        {"known_answers", test_known_answers},
        {"vnc", test_vnc},
        {0, 0},
};
