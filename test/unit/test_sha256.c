/* test_sha256.c — FIPS 180-4 / NIST test vectors, block boundaries, files. */
#include "sha256.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char hex[65];
	sha256_hex("", 0, hex);
	CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
	      "empty message");
	sha256_hex("abc", 3, hex);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	      "'abc' (FIPS 180-4 example)");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(m2, strlen(m2), hex);
	CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0,
	      "448-bit message (padding spills into a second block)");

	/* One million 'a', fed in uneven pieces to cross every block boundary. */
	sha256_ctx c;
	unsigned char d[32];
	char *a = malloc(1000000);
	memset(a, 'a', 1000000);
	sha256_init(&c);
	size_t off = 0, step = 1;
	while (off < 1000000) {
		size_t k = step < 1000000 - off ? step : 1000000 - off;
		sha256_update(&c, a + off, k);
		off += k;
		step = step * 7 % 131 + 1;
	}
	sha256_final(&c, d);
	char h2[65];
	for (int i = 0; i < 32; i++)
		snprintf(h2 + 2 * i, 3, "%02x", d[i]);
	CHECK(strcmp(h2, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
	      "one million 'a' in uneven pieces");

	/* File digest equals the memory digest. */
	char path[] = "/tmp/test_sha256_XXXXXX";
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "wb");
	fwrite(a, 1, 100000, fp);
	fclose(fp);
	cp_err e = {0};
	char hf[65], hm[65];
	CHECK(sha256_file(path, hf, &e) == 0, "sha256_file reads a file");
	sha256_hex(a, 100000, hm);
	CHECK(strcmp(hf, hm) == 0, "file digest equals memory digest");
	remove(path);
	CHECK(sha256_file(path, hf, &e) < 0 && e.code == CP_IO, "missing file is CP_IO");
	CHECK(strstr(e.msg, "cannot read '/tmp/test_sha256_") == e.msg, "message names the file");
	free(a);
	return tap_done();
}
