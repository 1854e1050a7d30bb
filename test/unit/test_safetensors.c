/* test_safetensors.c — the safetensors reader on valid and corrupt images:
 * every corruption gives CP_DATA and a precise "<file>: ..." message. */
#include "tap.h"
#include "ckpt.h"
#include "safetensors.h"

#include <string.h>
#include <unistd.h>

/* Parse a header text followed by dlen bytes of data; returns rc, fills e. */
static int parse_hdr(const char *hdr, size_t dlen, st_file *f, cp_err *e)
{
	uint8_t *data = calloc(1, dlen + 1);
	size_t len;
	uint8_t *img = ck_image(hdr, strlen(hdr), data, dlen, &len);
	free(data);
	memset(e, 0, sizeof(*e));
	int rc = st_parse(f, img, len, "x.safetensors", e);
	if (rc == 0)
		st_close(f);
	free(img);
	return rc;
}

static void bad(const char *hdr, size_t dlen, const char *want, const char *name)
{
	st_file f;
	cp_err e;
	int rc = parse_hdr(hdr, dlen, &f, &e);
	int ok = rc == -1 && e.code == CP_DATA && strcmp(e.msg, want) == 0;
	if (!ok)
		printf("#   rc %d code %d msg '%s'\n#   want '%s'\n", rc, e.code, e.msg, want);
	CHECK(ok, name);
}

static void valid_image(void)
{
	/* a: F32 [2,3] at an aligned offset; b: BF16 [2]; c: F16 [3]; d: F32 [1]
	 * at an offset that is not a multiple of 4 from the data start */
	ck_tensor t[] = {
		{"a", "F32", 2, {2, 3}, 24}, {"b", "BF16", 1, {2}, 4},
		{"c", "F16", 1, {3}, 6}, {"d", "F32", 1, {1}, 4},
	};
	size_t hlen;
	char *hdr = ck_header(t, 4, &hlen);
	uint8_t data[38];
	float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
	memcpy(data, a, 24);
	uint16_t b[2] = {0x3fc0, 0xc100};          /* 1.5, -8 */
	memcpy(data + 24, b, 4);
	uint16_t c[3] = {0x3c00, 0xc000, 0x0001};  /* 1, -2, 2^-24 */
	memcpy(data + 28, c, 6);
	float dv = 42.25f;
	memcpy(data + 34, &dv, 4);
	size_t len;
	uint8_t *img = ck_image(hdr, hlen, data, sizeof(data), &len);
	st_file f;
	cp_err e = {0};
	CHECK(st_parse(&f, img, len, "ok.safetensors", &e) == 0, "valid image parses");
	CHECK(f.n == 4, "four tensors");
	int64_t s23[2] = {2, 3}, s2[1] = {2}, s3[1] = {3}, s1[1] = {1}, s32[2] = {3, 2};
	const float *pa = st_get(&f, "a", 2, s23, &e);
	CHECK(pa && pa[2] == 3.5f && pa[5] == -7, "F32 tensor read");
	CHECK(pa == (const float *)(f.data), "aligned F32 used in place (no copy)");
	const float *pb = st_get(&f, "b", 1, s2, &e);
	CHECK(pb && pb[0] == 1.5f && pb[1] == -8.0f, "BF16 converted");
	CHECK(st_get(&f, "b", 1, s2, &e) == pb, "conversion done once");
	const float *pc = st_get(&f, "c", 1, s3, &e);
	CHECK(pc && pc[0] == 1.0f && pc[1] == -2.0f && pc[2] == ldexpf(1, -24), "F16 converted (incl. subnormal)");
	const float *pd = st_get(&f, "d", 1, s1, &e);
	CHECK(pd && pd[0] == 42.25f, "unaligned F32 copied");
	CHECK(st_get(&f, "a", 2, s32, &e) == NULL && e.code == CP_DATA &&
	      strcmp(e.msg, "ok.safetensors: tensor 'a' has shape [2, 3], expected [3, 2]") == 0,
	      "shape mismatch message");
	CHECK(st_get(&f, "zz", 1, s1, &e) == NULL && strcmp(e.msg, "ok.safetensors: tensor 'zz' is missing") == 0,
	      "missing tensor message");
	st_close(&f);
	free(img);
	free(hdr);
	CHECK(st_f16_to_f32(0x7c00) == INFINITY && isnan(st_f16_to_f32(0x7e00)) &&
	      st_f16_to_f32(0x3555) == 0x1.554p-2f, "F16 specials and rounding");
}

static void corrupt_images(void)
{
	st_file f;
	cp_err e;
	uint8_t tiny[5] = {1, 2, 3, 4, 5};
	memset(&e, 0, sizeof(e));
	CHECK(st_parse(&f, tiny, 5, "t.st", &e) == -1 && e.code == CP_DATA &&
	      strcmp(e.msg, "t.st: file is too short (5 bytes) to be safetensors") == 0, "too short");
	uint8_t past[16] = {0xff, 0xff, 0, 0, 0, 0, 0, 0, '{', '}'};
	CHECK(st_parse(&f, past, 16, "p.st", &e) == -1 &&
	      strcmp(e.msg, "p.st: header length 65535 runs past the end of the file (16 bytes)") == 0,
	      "header length past the end");
	uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80, '{', '}'};
	CHECK(st_parse(&f, huge, 16, "h.st", &e) == -1 && strstr(e.msg, "runs past the end"),
	      "header length 2^63 rejected without overflow");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8,
	    "x.safetensors: header is not a valid JSON object", "unterminated JSON");
	bad("[1,2]   ", 0, "x.safetensors: header does not start with '{'", "header not an object");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}x", 8,
	    "x.safetensors: junk after the header's JSON object", "junk after header");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
	    "x.safetensors: tensors 'a' and 'b' overlap", "overlapping offsets");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
	    "x.safetensors: tensor 'a' ends at byte 8, past the end of the data (4 bytes)", "offset out of range");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
	    "x.safetensors: tensor 'a' has data_offsets [8, 0] reversed", "reversed offsets");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
	    "x.safetensors: 4 unused bytes before tensor 'a'", "hole in the data");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12,
	    "x.safetensors: 4 bytes after the last tensor", "bytes after the last tensor");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' occupies 8 bytes, its shape and dtype need 12", "size mismatch");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000000000,1000000000000000],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' occupies 8 bytes, its shape and dtype need more than 8", "absurd dims");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' has an invalid dimension", "negative dimension");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' has an invalid dimension", "fractional dimension");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' has 9 dimensions (at most 8)", "too many dimensions");
	bad("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' has unknown dtype 'Q4'", "unknown dtype");
	bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
	    "x.safetensors: tensor 'a' has no dtype string", "dtype missing");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
	    "x.safetensors: tensor 'a' has invalid data_offsets", "one offset");
	bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
	    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
	    "x.safetensors: tensor 'a' appears twice", "duplicate name");
	bad("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
	    "x.safetensors: a tensor name is empty, too long or not printable", "empty name");
	bad("{\"__metadata__\":3}", 0, "x.safetensors: __metadata__ is not a JSON object", "bad metadata");
	/* a known dtype we do not compute with is refused when requested */
	st_file g;
	const char *h = "{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
	uint8_t z[8] = {0};
	size_t len;
	uint8_t *img = ck_image(h, strlen(h), z, 8, &len);
	memset(&e, 0, sizeof(e));
	CHECK(st_parse(&g, img, len, "i.st", &e) == 0, "I64 tensor parses");
	int64_t s1[1] = {1};
	CHECK(st_get(&g, "i", 1, s1, &e) == NULL && e.code == CP_DATA &&
	      strcmp(e.msg, "i.st: tensor 'i' has dtype 'I64', expected F32, F16 or BF16") == 0,
	      "wrong dtype refused with a message");
	st_close(&g);
	free(img);
	/* every truncation of a valid image is rejected cleanly */
	ck_tensor t[] = {{"a", "F32", 2, {2, 3}, 24}, {"b", "BF16", 1, {2}, 4}};
	size_t hlen;
	char *hdr = ck_header(t, 2, &hlen);
	uint8_t data[28] = {0};
	img = ck_image(hdr, hlen, data, sizeof(data), &len);
	int all = 1;
	for (size_t cut = 0; cut < len; cut++) {
		memset(&e, 0, sizeof(e));
		if (st_parse(&g, img, cut, "cut.st", &e) != -1 || e.code != CP_DATA ||
		    strncmp(e.msg, "cut.st: ", 8) != 0)
			all = 0;
	}
	CHECK(all, "every truncation of a valid file is rejected with CP_DATA");
	free(img);
	free(hdr);
}

static void open_errors(void)
{
	st_file f;
	cp_err e = {0};
	CHECK(st_open(&f, "/nonexistent/model.safetensors", &e) == -1 && e.code == CP_IO &&
	      strncmp(e.msg, "cannot open '/nonexistent/model.safetensors': ", 45) == 0, "missing file is CP_IO");
	CHECK(st_open(&f, "/", &e) == -1 && e.code == CP_DATA && strcmp(e.msg, "/: not a regular file") == 0,
	      "directory refused");
}

/* st_drop_pages gives back the pages of a mapped F32 tensor, which then
 * read the same; a converted tensor or a caller's buffer is left alone. */
static void drop_pages(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t nf = (size_t)pg;                      /* 4 pages of floats and more */
	ck_tensor t[2] = {{"a", "F32", 1, {(int64_t)nf}, nf * 4}, {"b", "BF16", 1, {4}, 8}};
	size_t hlen, len;
	char *hdr = ck_header(t, 2, &hlen);
	uint8_t *data = calloc(1, nf * 4 + 8);
	for (size_t i = 0; i < nf; i++) {
		float v = (float)i * 0.5f;
		memcpy(data + 4 * i, &v, 4);
	}
	data[nf * 4 + 1] = 0x3f, data[nf * 4 + 0] = 0x80;  /* b[0] = 1.0 in BF16 */
	uint8_t *img = ck_image(hdr, hlen, data, nf * 4 + 8, &len);
	char dir[] = "/tmp/chronopt-st-XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL, "temporary directory");
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	CHECK(ck_write(path, img, len) == 0, "image written");
	st_file f;
	cp_err e = {0};
	int64_t sa[1] = {(int64_t)nf}, sb[1] = {4};
	CHECK(st_open(&f, path, &e) == 0, "image opened");
	const float *a = st_get(&f, "a", 1, sa, &e), *b = st_get(&f, "b", 1, sb, &e);
	size_t got = a ? st_drop_pages(&f, a) : 0;
	CHECK(got >= (size_t)pg * 2 && got % (size_t)pg == 0 && got <= nf * 4,
	      "a mapped tensor's whole pages are given back");
	int same = a != NULL;
	for (size_t i = 0; same && i < nf; i++)
		same = a[i] == (float)i * 0.5f;
	CHECK(same, "and read the same afterwards");
	CHECK(b && st_drop_pages(&f, b) == 0 && b[0] == 1.0f, "a converted tensor is left alone");
	CHECK(st_drop_pages(&f, a + 1) == 0, "a pointer st_get did not return is left alone");
	st_close(&f);
	st_file g;
	CHECK(st_parse(&g, img, len, "buf", &e) == 0, "image parsed in a caller's buffer");
	const float *ga = st_get(&g, "a", 1, sa, &e);
	CHECK(ga && st_drop_pages(&g, ga) == 0 && ga[nf - 1] == (float)(nf - 1) * 0.5f,
	      "a caller's buffer is left alone");
	st_close(&g);
	unlink(path);
	rmdir(dir);
	free(hdr), free(data), free(img);
}

int main(void)
{
	valid_image();
	corrupt_images();
	open_errors();
	drop_pages();
	return tap_done();
}
