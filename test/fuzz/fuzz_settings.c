/* fuzz_settings.c — libFuzzer harness for the settings parser (see fuzz_entry.h;
 * build and run with scripts/fuzz settings SECONDS). */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one("settings", data, size);
}
