/* fuzz_envelope.c — libFuzzer harness for the envelope parser (see fuzz_entry.h;
 * build and run with scripts/fuzz envelope SECONDS). */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one("envelope", data, size);
}
