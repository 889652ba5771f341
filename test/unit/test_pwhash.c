/* test_pwhash.c: md5crypt and sha512crypt known answers, computed with
 * OpenSSL 3.0 (`openssl passwd -1 -salt S PW`, `openssl passwd -6 -salt S
 * PW`) and Python 3.11's crypt (glibc's libcrypt) for what openssl refuses
 * (an empty password), plus Drepper's own test vector. */
#include "pwhash.h"
#include "unit.h"

static const struct {
	char id;
	const char *pw, *salt, *want;
} vec[] = {
        {'1', "1234", "hP2vLq8K", "$1$hP2vLq8K$BWJ1izgnw7/P5OPORNiyU0"},
        {'1', "admin", "hP2vLq8K", "$1$hP2vLq8K$P0Ex6JHIOB0DMahxYJ4tk0"},
        {'1', "123456", "hP2vLq8K", "$1$hP2vLq8K$hN2HjTvmmy2lGx.V3kKVq/"},
        {'1', "root", "hP2vLq8K", "$1$hP2vLq8K$ESSdJbyyzTOHfVkSH2BIZ1"},
        {'1', "", "hP2vLq8K", "$1$hP2vLq8K$qFGDRHO2/Nt3gAB7hkDoM/"},
        {'1', "a-much-longer-password-that-is-over-sixteen-bytes-long-x",
                "hP2vLq8K", "$1$hP2vLq8K$fcTTpe7kdoddro9r2suI20"},
        {'1', "root", "ab", "$1$ab$97TKqrhNM0habba3apc9k/"},
        {'1',
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxx",
                "abc", "$1$abc$0qltPdTB4LZ7DyMHH6OHc0"},
        /* a salt past 8 characters is cut, as crypt does */
        {'1', "1234", "hP2vLq8Kzz", "$1$hP2vLq8K$BWJ1izgnw7/P5OPORNiyU0"},
        {'6', "1234", "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$OvKKr8nJqIjVWL82T21xr.xPZJObAO4c2fISGe"
                "L52CKx/RCqNNTW/V7Y7tm9.Fsv1W9/M1db.EVVGQKuTuAh5."},
        {'6', "admin", "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$aNnmw.rOgXDZb/fIHsdIqXqzv4G6FRrQiHoy3m"
                "ycC7QApQaivbsWQnkFZi0R/SKNXAMj9Mq0WgXghios2d7lq."},
        {'6', "123456", "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$.ubwKUQTuxMMBb8xzB7gM64zBsFFpITeyVfxkm"
                "A/3E/jyRhiScU9RsNADVOPu8CYVNTR1UX17PD23Q.w8kq/4."},
        {'6', "root", "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$BnVXlE/X9NTBV6Ch3qV2TqI31OKtyARbbt9Tko"
                "WbI3cPnv4CyFHk.5OgrNBaWWZEaaOQqDhoKh84BPKhpHbTQ0"},
        {'6', "", "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$8swHSsIeHou6jlIGL0pPyIVDbyPyJo0Top3uCL"
                "7Mwtj6aDiOtP3Sz7zFQrQeQ8HrYaz6ct3PSmQbjT2sMzJI9/"},
        {'6', "a-much-longer-password-that-is-over-sixteen-bytes-long-x",
                "Xq3vN8dFa1B2c3D4",
                "$6$Xq3vN8dFa1B2c3D4$CmoSU8j7fhvFZzPzV8yDLcHo4S9XfRTPGwQTpj"
                ".pVEyc.H/Y.4vuqBGlqknziC9Rer/rbmQXzgatJli6MoO3i."},
        {'6',
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxx",
                "abc",
                "$6$abc$lqm/hsz9bcZkUtAtYbLwpnjmKC.15FR72lU6wIZyIc.62cqMaU1"
                "Vt98zOjFNTEe2ODzyk2BzpnkwLzH2YLN3J0"},
        /* Drepper's specification, its second example */
        {'6', "Hello world!", "saltstring",
                "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uB"
                "nIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
};

static void
test_known_answers(void)
{
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		char out[PWHASH_MAX];
		size_t n =
		        vec[i].id == '1'
		                ? pwhash_md5crypt(vec[i].pw, strlen(vec[i].pw),
		                          vec[i].salt, strlen(vec[i].salt), out)
		                : pwhash_sha512crypt(vec[i].pw,
		                          strlen(vec[i].pw), vec[i].salt,
		                          strlen(vec[i].salt), out);
		CHECK_STR(out, vec[i].want);
		CHECK(n == strlen(vec[i].want));
	}
}

const struct unit_test unit_pwhash[] = {
        {"known_answers", test_known_answers},
        {0, 0},
};
