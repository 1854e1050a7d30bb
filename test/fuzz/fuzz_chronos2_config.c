/* fuzz_chronos2_config.c — libFuzzer harness for the Chronos-2 config.json
 * parser (c2_config_parse): every input is accepted with a config the
 * forward pass can size its buffers from, or refused with CP_DATA.  Built
 * and run by scripts/fuzz (target chronos2_config); its corpus is replayed
 * by test/unit/test_chronos2.c. */
#include "chronos2_config.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	c2_config c;
	cp_err e = {0};
	if (c2_config_parse(&c, (const char *)data, size, "fuzz", &e) < 0) {
		if (e.code != CP_DATA || !e.msg[0])
			abort();
		return 0;
	}
	if (c.d_model < 1 || c.d_kv < 2 || c.d_kv % 2 || c.d_ff < 1 || c.num_layers < 1 || c.num_heads < 1 ||
	    c.patch_size < 1 || c.context_length < 1 || c.max_output_patches < 1 || c.time_encoding_scale < 1 ||
	    c.num_quantiles < 1 || c.num_quantiles > C2_MAX_QUANTILES || !c.use_reg_token ||
	    (long)c.num_heads * c.d_kv > 65536 || !(c.layer_norm_epsilon > 0) || !(c.rope_theta > 1))
		abort();
	for (int i = 0; i < c.num_quantiles; i++)
		if (!(c.quantiles[i] > 0 && c.quantiles[i] < 1))
			abort();
	return 0;
}
