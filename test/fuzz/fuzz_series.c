/* fuzz_series.c — libFuzzer harness for the series parser (see fuzz_entry.h;
 * build and run with scripts/fuzz series SECONDS). */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one("series", data, size);
}
