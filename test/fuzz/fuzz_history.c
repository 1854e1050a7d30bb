/* fuzz_history.c — libFuzzer harness for the history parser (see fuzz_entry.h;
 * build and run with scripts/fuzz history SECONDS). */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one("history", data, size);
}
