/* test_tokenizer.c — MeanScaleUniformBins by hand-checked cases, and the
 * float32 details that make it bit-identical to chronos-forecasting. */
#include "tap.h"
#include "tokenizer.h"

#include <string.h>

static cc_config small_cfg(int use_eos, int ctx)
{
	cc_config c;
	memset(&c, 0, sizeof(c));
	c.n_tokens = 10;           /* 2 special + 7 centres + 1 */
	c.n_special_tokens = 2;
	c.pad_token_id = 0;
	c.eos_token_id = 1;
	c.use_eos_token = use_eos;
	c.context_length = ctx;
	c.low_limit = -3;
	c.high_limit = 3;
	return c;
}

static uint32_t bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

int main(void)
{
	cc_config c = small_cfg(1, 8);
	tok_t t;
	tok_init(&t, &c);
	CHECK(t.ncenters == 7 && t.centers[0] == -3 && t.centers[3] == 0 && t.centers[6] == 3, "centres -3..3");
	CHECK(t.bounds[0] == -1e20f && t.bounds[1] == -2.5f && t.bounds[6] == 2.5f && t.bounds[7] == 1e20f,
	      "boundaries: -1e20, midpoints, 1e20");

	int ids[16];
	unsigned char mask[16];
	double x[] = {1, 2, 3};
	float s = tok_encode(&t, x, 3, ids, mask);
	/* scale 2; scaled 0.5 (on an edge: upper bin), 1, 1.5 (edge) */
	CHECK(s == 2.0f, "scale = mean |x|");
	CHECK(tok_len(&t, 3) == 4 && ids[0] == 7 && ids[1] == 7 && ids[2] == 8 && ids[3] == 1,
	      "bucketize right=True + offset, EOS appended");
	CHECK(mask[0] && mask[1] && mask[2] && mask[3], "mask all ones");

	double y[] = {NAN, -4, NAN, 4, 1e30};
	s = tok_encode(&t, y, 5, ids, mask);
	CHECK(s == (float)((4 + 4 + 1e30) / 3), "scale over observed values only");
	CHECK(ids[0] == 0 && mask[0] == 0 && ids[2] == 0 && mask[2] == 0, "NaN -> PAD, mask 0");
	CHECK(ids[4] == 9 && mask[4] == 1, "huge value: scaled 3, the top bin");

	double big[] = {0, 0, 0, 1e6}, neg[] = {-1e6, 0, 0, 0}, mid[] = {1e6, -1e6, 0};
	tok_encode(&t, big, 4, ids, mask);
	CHECK(ids[3] == 9 && ids[0] == 6, "scaled 4 lands in the top bin (id n_tokens - 1)");
	tok_encode(&t, neg, 4, ids, mask);
	CHECK(ids[0] == 3, "scaled -4 lands in the lowest bin (id n_special + 1)");
	tok_encode(&t, mid, 3, ids, mask);
	CHECK(ids[0] == 8 && ids[1] == 5 && ids[2] == 6, "scaled 1.5 / -1.5 on edges go up, 0 to the centre");

	double z[] = {0, 0, 0, 0};
	CHECK(tok_encode(&t, z, 4, ids, mask) == 1.0f && ids[0] == 6, "all zeros: scale 1, centre bin");
	double nn[] = {NAN, NAN};
	CHECK(tok_encode(&t, nn, 2, ids, mask) == 1.0f && ids[0] == 0 && ids[2] == 1 && mask[2] == 1,
	      "all missing: scale 1, PADs and EOS");

	/* truncation to the last context_length values */
	double lng[12];
	for (int i = 0; i < 12; i++)
		lng[i] = i < 4 ? 1000 : 1;
	CHECK(tok_len(&t, 12) == 9 && tok_encode(&t, lng, 12, ids, mask) == 1.0f,
	      "only the last context_length values count");

	/* decoding */
	CHECK(tok_decode(&t, 9, 2.0f) == 6.0f, "top token decodes to high * scale");
	CHECK(tok_decode(&t, 0, 2.0f) == -6.0f && tok_decode(&t, 1, 2.0f) == -6.0f,
	      "special tokens clamp to the first centre");
	CHECK(tok_decode(&t, 5, 0.5f) == -0.5f, "centre index = id - n_special - 1");
	tok_free(&t);

	cc_config c2 = small_cfg(0, 600);
	tok_init(&t, &c2);
	CHECK(tok_len(&t, 3) == 3, "no EOS when use_eos_token is false");
	/* torch's float32 cascade sum, known values computed with torch 1.13:
	 * x_i = float(sin(0.37 i) * 100 + 0.013 i) */
	double w[512];
	for (int i = 0; i < 512; i++)
		w[i] = (float)(sin(i * 0.37) * 100 + i * 0.013);
	int id2[600];
	unsigned char m2[600];
	CHECK(bits(tok_encode(&t, w, 512, id2, m2)) == 1115588465u, "scale of 512 values bit-identical to torch");
	CHECK(bits(tok_encode(&t, w, 333, id2, m2)) == 1115577453u,
	      "scale of 333 values bit-identical to torch (differs from the correctly rounded mean)");
	CHECK(bits(tok_encode(&t, w, 7, id2, m2)) == 1116074435u, "scale of 7 values (scalar path)");
	tok_free(&t);

	/* linspace: exact ends, monotone, within an ulp of the textbook formula */
	float ls[4093];
	tok_linspace(-15, 15, 4093, ls);
	int mono = 1, close = 1;
	for (int i = 1; i < 4093; i++)
		mono &= ls[i] > ls[i - 1];
	for (int i = 0; i < 4093; i++)
		close &= fabs(ls[i] - (-15.0 + 30.0 * i / 4092)) <= 4e-6;
	CHECK(ls[0] == -15 && ls[4092] == 15 && mono && close, "linspace ends, monotone, accurate");
	/* torch's value at index 2046 (the middle) is -1.49011612e-08, not 0 */
	CHECK(ls[2046] == -1.49011612e-08f, "linspace middle value as torch computes it");
	return tap_done();
}
