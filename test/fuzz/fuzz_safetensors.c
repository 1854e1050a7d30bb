/* fuzz_safetensors.c — libFuzzer harness for the safetensors header parser
 * (st_parse) and the per-tensor conversion (st_get).  Built and run by
 * scripts/fuzz; its crash corpus is replayed by test/unit/test_fuzz_replay.c. */
#include "safetensors.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	st_file f;
	cp_err e = {0};
	if (st_parse(&f, data, size, "fuzz", &e) < 0) {
		if (e.code != CP_DATA)
			abort();
		return 0;
	}
	for (int i = 0; i < f.n; i++) {
		const st_tensor *t = &f.t[i];
		const float *p = st_get(&f, t->name, t->ndim, t->shape, &e);
		volatile float sink = 0;
		if (p)
			for (int64_t k = 0; k < t->numel; k++)
				sink += p[k];
		(void)sink;
	}
	st_close(&f);
	return 0;
}
