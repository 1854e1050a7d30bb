/* fuzz_generation.c — libFuzzer harness for generation_config.json
 * (cc_generation) read against a Chronos-T5 and a Chronos-Bolt config.json:
 * whatever it accepts must leave a decoder start id inside the
 * vocabulary.  Built and run by scripts/fuzz; its corpus is replayed by
 * test/unit/test_fuzz_replay.c. */
#include "chronos_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const base[] = {
	/* Chronos-T5 without decoder_start_token_id: generation_config.json may set it */
	"{\"architectures\":[\"T5ForConditionalGeneration\"],\"vocab_size\":64,\"d_model\":8,\"d_kv\":4,"
	"\"d_ff\":16,\"num_layers\":1,\"num_heads\":2,\"chronos_config\":{\"tokenizer_class\":"
	"\"MeanScaleUniformBins\",\"tokenizer_kwargs\":{\"low_limit\":-15.0,\"high_limit\":15.0},"
	"\"n_tokens\":64,\"n_special_tokens\":2,\"pad_token_id\":0,\"eos_token_id\":1,\"use_eos_token\":true,"
	"\"model_type\":\"seq2seq\",\"context_length\":16,\"prediction_length\":4,\"num_samples\":2,"
	"\"temperature\":1.0,\"top_k\":50,\"top_p\":1.0}}",
	/* Chronos-Bolt with the [REG] token: a 2-token embedding */
	"{\"architectures\":[\"ChronosBoltModelForForecasting\"],\"d_model\":8,\"d_kv\":4,\"d_ff\":16,"
	"\"num_layers\":1,\"num_heads\":2,\"decoder_start_token_id\":0,\"chronos_config\":{\"context_length\":16,"
	"\"prediction_length\":4,\"input_patch_size\":4,\"input_patch_stride\":4,\"use_reg_token\":true,"
	"\"quantiles\":[0.1,0.5,0.9]}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		cc_config c;
		cp_err e = {0};
		if (cc_parse(&c, base[i], strlen(base[i]), "config.json", &e) < 0)
			abort();  /* the bases are valid */
		if (cc_generation(&c, (const char *)data, size, "fuzz", &e) < 0) {
			if (e.code != CP_DATA)
				abort();
			continue;
		}
		if (c.decoder_start_token_id < 0 || c.decoder_start_token_id >= c.vocab_size)
			abort();
	}
	return 0;
}
