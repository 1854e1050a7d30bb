/* fuzz_config.c — libFuzzer harness for the config.json parser (cc_parse)
 * (Chronos-T5 and Chronos-Bolt configs, the family detection before them)
 * and the tokenizer built from what it accepts.  Built and run by
 * scripts/fuzz; its crash corpus is replayed by test/unit/test_fuzz_replay.c. */
#include "chronos_config.h"
#include "tokenizer.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cc_config c;
	cp_err e = {0};
	if (cc_parse(&c, (const char *)data, size, "fuzz", &e) < 0) {
		if (e.code != CP_DATA)
			abort();
		return 0;
	}
	if (c.family == CC_BOLT) {
		/* what the Bolt loader sizes from the config must be sane */
		if (c.nquantiles < 1 || c.nquantiles > CC_MAX_QUANTILES || c.patch_size < 1 ||
		    c.patch_stride < 1 || c.vocab_size < 1 || c.vocab_size > 2)
			abort();
		return 0;
	}
	tok_t t;
	tok_init(&t, &c);
	double x[3] = {1, -2, 3};
	int ids[4];
	unsigned char mask[4];
	float s = tok_encode(&t, x, 3, ids, mask);
	for (int i = 0; i < tok_len(&t, 3); i++)
		if (ids[i] < 0 || ids[i] >= c.n_tokens)
			abort();
	(void)tok_decode(&t, ids[0], s);
	tok_free(&t);
	return 0;
}
