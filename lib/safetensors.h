/*
 * safetensors.h — a checked reader for Hugging Face .safetensors files.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 * "__metadata__": {...}}, then the data bytes.  The file is mmapped
 * read-only.  st_parse() validates the whole header before anything is
 * used: every tensor's name, dtype (F32, F16, BF16), shape, and byte range
 * (inside the data, e - b == numel * size, ranges neither overlapping nor
 * leaving holes, as the format requires).  F32 tensors are used in place;
 * F16/BF16 tensors (and F32 tensors at an unaligned offset) are converted
 * to float once, on first request, into memory owned by the st_file.
 * The header must be UTF-8, and st_get refuses a tensor holding a NaN or
 * an infinity (naming it and the first bad index): a model with such a
 * weight only forecasts NaN.
 *
 * A checkpoint directory (st_open_dir) holds model.safetensors, or a
 * sharded checkpoint: model.safetensors.index.json, whose "weight_map"
 * names for every tensor the shard file (in the same directory) that holds
 * it; each shard is checked as a file of its own and every tensor must be
 * in the shard the index names, once.  The shards then read as one file.
 *
 * Every error is CP_DATA with message "<path>: <problem>" (CP_IO for
 * open/read/mmap failures).
 */
#ifndef CHRONOPT_SAFETENSORS_H
#define CHRONOPT_SAFETENSORS_H
#include "common.h"

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u << 20)  /* same limit as the reference library */

enum st_dtype { ST_F32, ST_F16, ST_BF16 };

typedef struct {
	char *name;
	int dtype;                   /* enum st_dtype */
	int ndim;
	int64_t shape[ST_MAX_DIMS];
	int64_t numel;
	uint64_t begin, end;         /* byte range relative to its file's data start */
	const uint8_t *ptr;          /* its bytes (in its file's map) */
	const char *file;            /* its file's path, for messages (owned by the st_file) */
	int checked;                 /* every value found finite */
	float *converted;            /* owned; NULL until converted */
} st_tensor;

/* One file of a (possibly sharded) checkpoint. */
typedef struct {
	char *path;                  /* owned */
	const uint8_t *base;         /* whole file */
	size_t size;
	int mapped;                  /* base is our mmap */
} st_shard;

typedef struct {
	char *path;                  /* owned copy, for messages (the index of a sharded one) */
	const uint8_t *base;         /* whole file (mmap or caller's buffer); first shard */
	size_t size;
	const uint8_t *data;         /* base + 8 + N */
	size_t data_size;
	int n;                       /* tensors */
	st_tensor *t;                /* sorted by name */
	int mapped;                  /* base is our mmap */
	int nshards;                 /* 0: one file (base); else the shards below */
	st_shard *shards;            /* owned; sharded only */
} st_file;

/* Parse and validate the safetensors image buf[0..size-1] (not copied: it
 * must outlive f).  `path` is used in messages.  On success fills *f (free
 * with st_close) and returns 0; on failure returns -1, *f is empty. */
int st_parse(st_file *f, const uint8_t *buf, size_t size, const char *path, cp_err *e);

/* Open and mmap `path`, then st_parse.  Returns 0 or -1 (e filled). */
int st_open(st_file *f, const char *path, cp_err *e);

/* Open the weights of checkpoint directory `dir`: dir/model.safetensors,
 * else the sharded dir/model.safetensors.index.json and its shards.  A
 * directory holding neither but PyTorch (pytorch_model.bin, its .index.json),
 * TensorFlow or Flax weights is CP_DATA saying what it holds and that
 * chronopt needs safetensors; one holding no weights at all is CP_IO
 * "cannot open '<dir>/model.safetensors': ...".  Returns 0 or -1. */
int st_open_dir(st_file *f, const char *dir, cp_err *e);

/* Release everything *f owns (unmaps when st_open mapped it). */
void st_close(st_file *f);

/* The tensor called `name`, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* The float data of tensor `name`, checked to have exactly `ndim` dims with
 * the given sizes.  Pointer into the map (F32, aligned) or into a buffer
 * owned by f (converted once).  NULL with e filled ("<path>: tensor 'x' is
 * missing", "... has shape [a, b], expected [c, d]"). */
const float *st_get(st_file *f, const char *name, int ndim, const int64_t *shape, cp_err *e);

/* p: a pointer st_get returned, whose data the caller has copied and will
 * seldom read again.  When the tensor is used in place in a file f mapped,
 * the pages wholly inside it are given back (madvise MADV_DONTNEED): a
 * later read faults them in from the file again, unchanged.  Otherwise
 * (converted, or a caller's buffer) nothing happens.  Returns the bytes
 * given back. */
size_t st_drop_pages(st_file *f, const float *p);

/* Convert IEEE half / bfloat16 bit patterns to float. */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);

#endif
