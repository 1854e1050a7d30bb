/* sha256.h — SHA-256 (FIPS 180-4) of memory and of files, for model
 * identity (the sha256 of model.safetensors recorded with every config). */
#ifndef CHRONOPT_SHA256_H
#define CHRONOPT_SHA256_H
#include "common.h"
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t h[8];
	uint64_t len;        /* bytes fed so far */
	unsigned char buf[64];
	size_t nbuf;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);

/* Lower-case hex digest of data[n] into hex (65 bytes with the NUL). */
void sha256_hex(const void *data, size_t n, char hex[65]);

/* Hex digest of the file at path. Returns 0, or -1 with CP_IO
 * "cannot read '<path>': <strerror>". */
int sha256_file(const char *path, char hex[65], cp_err *e);

#endif
