/* safetensors.c — see safetensors.h. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "F32 tensors are used in place: little-endian hosts only"
#endif

/* dtypes other than the three we compute with: known, so their sizes can
 * be checked, but refused when requested */
#define ST_OTHER 100

static const struct { const char *name; int dtype; int size; } st_dtypes[] = {
	{"F32", ST_F32, 4}, {"F16", ST_F16, 2}, {"BF16", ST_BF16, 2},
	{"F64", ST_OTHER, 8}, {"I64", ST_OTHER, 8}, {"U64", ST_OTHER, 8},
	{"I32", ST_OTHER, 4}, {"U32", ST_OTHER, 4}, {"I16", ST_OTHER, 2},
	{"U16", ST_OTHER, 2}, {"I8", ST_OTHER, 1}, {"U8", ST_OTHER, 1},
	{"BOOL", ST_OTHER, 1}, {"F8_E4M3", ST_OTHER, 1}, {"F8_E5M2", ST_OTHER, 1},
};

static const char *dtype_name(const st_tensor *t)
{
	return st_dtypes[t->dtype >= ST_OTHER ? t->dtype - ST_OTHER : t->dtype].name;
}

/* dtype field: index into st_dtypes stored as dtype for F32/F16/BF16 and
 * ST_OTHER + index for the others */
static int dtype_lookup(const char *s, int *dtype, int *size)
{
	for (size_t i = 0; i < sizeof(st_dtypes) / sizeof(st_dtypes[0]); i++)
		if (strcmp(s, st_dtypes[i].name) == 0) {
			*dtype = st_dtypes[i].dtype == ST_OTHER ? ST_OTHER + (int)i : st_dtypes[i].dtype;
			*size = st_dtypes[i].size;
			return 0;
		}
	return -1;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 256)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\'')
			return 0;
	return 1;
}

/* A JSON number that is an exact integer in [0, max]. */
static int json_uint(const cJSON *j, uint64_t max, uint64_t *out)
{
	if (!cJSON_IsNumber(j))
		return -1;
	double v = j->valuedouble;
	if (!(v >= 0) || v > (double)max || v != floor(v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* The header bytes h[0..n-1] are UTF-8 up to the first NUL (trailing
 * padding, checked later); else CP_DATA naming the first bad byte. */
static int check_utf8(const uint8_t *h, size_t n, const char *path, cp_err *e)
{
	char *z = cp_malloc(n + 1);
	memcpy(z, h, n);
	z[n] = '\0';
	const char *bad = cp_utf8_bad(z);
	int rc = 0;
	if (bad)
		rc = cp_fail(e, CP_DATA, "%s: header is not UTF-8 (byte 0x%02x at header offset %zu)", path,
		             (unsigned char)*bad, (size_t)(bad - z));
	free(z);
	return rc;
}

static void free_tensors(st_file *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->t[i].name);
		free(f->t[i].converted);
	}
	free(f->t);
	f->t = NULL;
	f->n = 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_range(const void *a, const void *b)
{
	const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int parse_tensor(st_file *f, st_tensor *t, const cJSON *j, cp_err *e)
{
	const char *p = f->path, *nm = t->name;
	if (!cJSON_IsObject(j))
		return cp_fail(e, CP_DATA, "%s: tensor '%s' is not a JSON object", p, nm);
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
	int size;
	if (!cJSON_IsString(dt))
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has no dtype string", p, nm);
	if (dtype_lookup(dt->valuestring, &t->dtype, &size) < 0)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has unknown dtype '%.32s'", p, nm, dt->valuestring);
	if (!cJSON_IsArray(sh))
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has no shape array", p, nm);
	int nd = cJSON_GetArraySize(sh);
	if (nd > ST_MAX_DIMS)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has %d dimensions (at most %d)", p, nm, nd, ST_MAX_DIMS);
	t->ndim = nd;
	/* bound every product by the data size so nothing can overflow */
	uint64_t numel = 1, limit = f->data_size;
	const cJSON *d;
	int i = 0;
	cJSON_ArrayForEach(d, sh) {
		uint64_t v;
		if (json_uint(d, (uint64_t)1 << 53, &v) < 0)
			return cp_fail(e, CP_DATA, "%s: tensor '%s' has an invalid dimension", p, nm);
		t->shape[i++] = (int64_t)v;
		if (v != 0 && numel > (limit + 1) / v + 1)
			numel = limit + 1;  /* saturate: certainly too large */
		else
			numel *= v;
		if (numel > limit + 1)
			numel = limit + 1;
	}
	t->numel = (int64_t)numel;
	if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
	    json_uint(cJSON_GetArrayItem(off, 0), (uint64_t)1 << 53, &t->begin) < 0 ||
	    json_uint(cJSON_GetArrayItem(off, 1), (uint64_t)1 << 53, &t->end) < 0)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has invalid data_offsets", p, nm);
	if (t->begin > t->end)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' has data_offsets [%llu, %llu] reversed",
		               p, nm, (unsigned long long)t->begin, (unsigned long long)t->end);
	if (t->end > f->data_size)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' ends at byte %llu, past the end of the data (%zu bytes)",
		               p, nm, (unsigned long long)t->end, f->data_size);
	if (numel > limit || numel * (uint64_t)size != t->end - t->begin)
		return cp_fail(e, CP_DATA, "%s: tensor '%s' occupies %llu bytes, its shape and dtype need %s%llu",
		               p, nm, (unsigned long long)(t->end - t->begin),
		               numel > limit ? "more than " : "",
		               (unsigned long long)(numel > limit ? limit : numel * (uint64_t)size));
	return 0;
}

int st_parse(st_file *f, const uint8_t *buf, size_t size, const char *path, cp_err *e)
{
	memset(f, 0, sizeof(*f));
	f->path = cp_strdup(path);
	f->base = buf;
	f->size = size;
	if (size < 8) {
		cp_fail(e, CP_DATA, "%s: file is too short (%zu bytes) to be safetensors", path, size);
		goto fail;
	}
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | buf[i];
	if (n > size - 8) {
		cp_fail(e, CP_DATA, "%s: header length %llu runs past the end of the file (%zu bytes)",
		        path, (unsigned long long)n, size);
		goto fail;
	}
	if (n > ST_MAX_HEADER || n < 2) {
		cp_fail(e, CP_DATA, "%s: header length %llu is not plausible", path, (unsigned long long)n);
		goto fail;
	}
	if (buf[8] != '{') {
		cp_fail(e, CP_DATA, "%s: header does not start with '{'", path);
		goto fail;
	}
	if (check_utf8(buf + 8, (size_t)n, path, e) < 0)
		goto fail;
	f->data = buf + 8 + n;
	f->data_size = size - 8 - (size_t)n;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf + 8, (size_t)n, &end, 0);
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		cp_fail(e, CP_DATA, "%s: header is not a valid JSON object", path);
		goto fail;
	}
	for (const char *q = end; q < (const char *)buf + 8 + n; q++)
		if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t' && *q != '\0') {
			cJSON_Delete(root);
			cp_fail(e, CP_DATA, "%s: junk after the header's JSON object", path);
			goto fail;
		}
	int cap = cJSON_GetArraySize(root);
	f->t = cp_calloc((size_t)(cap ? cap : 1), sizeof(st_tensor));
	const cJSON *it;
	cJSON_ArrayForEach(it, root) {
		if (!it->string) {
			cJSON_Delete(root);
			cp_fail(e, CP_DATA, "%s: header entry without a name", path);
			goto fail;
		}
		if (strcmp(it->string, "__metadata__") == 0) {
			if (!cJSON_IsObject(it)) {
				cJSON_Delete(root);
				cp_fail(e, CP_DATA, "%s: __metadata__ is not a JSON object", path);
				goto fail;
			}
			continue;
		}
		if (!name_ok(it->string)) {
			cJSON_Delete(root);
			cp_fail(e, CP_DATA, "%s: a tensor name is empty, too long or not printable", path);
			goto fail;
		}
		st_tensor *t = &f->t[f->n++];
		t->name = cp_strdup(it->string);
		if (parse_tensor(f, t, it, e) < 0) {
			cJSON_Delete(root);
			goto fail;
		}
		t->ptr = f->data + t->begin;
		t->file = f->path;
	}
	cJSON_Delete(root);
	qsort(f->t, (size_t)f->n, sizeof(st_tensor), cmp_name);
	for (int i = 1; i < f->n; i++)
		if (strcmp(f->t[i - 1].name, f->t[i].name) == 0) {
			cp_fail(e, CP_DATA, "%s: tensor '%s' appears twice", path, f->t[i].name);
			goto fail;
		}
	/* the data must be covered exactly: no overlap, no hole, nothing after */
	st_tensor **by = cp_malloc(sizeof(st_tensor *) * (size_t)(f->n ? f->n : 1));
	for (int i = 0; i < f->n; i++)
		by[i] = &f->t[i];
	qsort(by, (size_t)f->n, sizeof(st_tensor *), cmp_range);
	uint64_t at = 0;
	const char *prev = NULL;
	for (int i = 0; i < f->n; i++) {
		if (by[i]->begin < at) {
			cp_fail(e, CP_DATA, "%s: tensors '%s' and '%s' overlap", path, prev, by[i]->name);
			free(by);
			goto fail;
		}
		if (by[i]->begin > at) {
			cp_fail(e, CP_DATA, "%s: %llu unused bytes before tensor '%s'", path,
			        (unsigned long long)(by[i]->begin - at), by[i]->name);
			free(by);
			goto fail;
		}
		at = by[i]->end;
		prev = by[i]->name;
	}
	free(by);
	if (at != f->data_size) {
		cp_fail(e, CP_DATA, "%s: %llu bytes after the last tensor", path,
		        (unsigned long long)(f->data_size - at));
		goto fail;
	}
	return 0;
fail:
	free_tensors(f);
	free(f->path);
	memset(f, 0, sizeof(*f));
	return -1;
}

int st_open(st_file *f, const char *path, cp_err *e)
{
	memset(f, 0, sizeof(*f));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cp_fail_errno(e, "cannot open '%s'", path);
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		cp_fail_errno(e, "cannot stat '%s'", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return cp_fail(e, CP_DATA, "%s: not a regular file", path);
	}
	size_t size = (size_t)sb.st_size;
	if (size < 8) {
		close(fd);
		return cp_fail(e, CP_DATA, "%s: file is too short (%zu bytes) to be safetensors", path, size);
	}
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	int saved = errno;
	close(fd);
	if (m == MAP_FAILED) {
		errno = saved;
		return cp_fail_errno(e, "cannot map '%s'", path);
	}
	if (st_parse(f, m, size, path, e) < 0) {
		munmap(m, size);
		return -1;
	}
	f->mapped = 1;
	return 0;
}

void st_close(st_file *f)
{
	if (!f)
		return;
	free_tensors(f);
	if (f->mapped && f->base)
		munmap((void *)f->base, f->size);
	for (int i = 0; i < f->nshards; i++) {
		if (f->shards[i].mapped && f->shards[i].base)
			munmap((void *)f->shards[i].base, f->shards[i].size);
		free(f->shards[i].path);
	}
	free(f->shards);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

const st_tensor *st_find(const st_file *f, const char *name)
{
	st_tensor key = {.name = (char *)name};
	return bsearch(&key, f->t, (size_t)f->n, sizeof(st_tensor), cmp_name);
}

float st_f16_to_f32(uint16_t h)
{
	int sign = h >> 15, ex = (h >> 10) & 0x1f, man = h & 0x3ff;
	float v;
	if (ex == 0)
		v = ldexpf((float)man, -24);
	else if (ex == 31)
		v = man ? NAN : INFINITY;
	else
		v = ldexpf((float)(man | 0x400), ex - 25);
	return sign ? -v : v;
}

float st_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

static void shape_str(char *buf, size_t n, int nd, const int64_t *s)
{
	size_t at = 0;
	at += (size_t)snprintf(buf + at, n - at, "[");
	for (int i = 0; i < nd && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? ", " : "", (long long)s[i]);
	if (at < n)
		snprintf(buf + at, n - at, "]");
}

static const float *convert(st_tensor *t, const uint8_t *src);

const float *st_get(st_file *f, const char *name, int ndim, const int64_t *shape, cp_err *e)
{
	st_tensor *t = (st_tensor *)st_find(f, name);
	if (!t) {
		cp_fail(e, CP_DATA, "%s: tensor '%s' is missing", f->path, name);
		return NULL;
	}
	int same = t->ndim == ndim;
	for (int i = 0; same && i < ndim; i++)
		same = t->shape[i] == shape[i];
	if (!same) {
		char got[200], want[200];
		shape_str(got, sizeof(got), t->ndim, t->shape);
		shape_str(want, sizeof(want), ndim, shape);
		cp_fail(e, CP_DATA, "%s: tensor '%s' has shape %s, expected %s", t->file, name, got, want);
		return NULL;
	}
	if (t->dtype >= ST_OTHER) {
		cp_fail(e, CP_DATA, "%s: tensor '%s' has dtype '%s', expected F32, F16 or BF16",
		        t->file, name, dtype_name(t));
		return NULL;
	}
	const uint8_t *src = t->ptr;
	const float *out = NULL;
	if (t->dtype == ST_F32 && ((uintptr_t)src & 3) == 0)
		out = (const float *)src;
	else
		out = convert(t, src);
	if (!t->checked) {
		for (int64_t i = 0; i < t->numel; i++)
			if (!isfinite(out[i])) {
				cp_fail(e, CP_DATA, "%s: tensor '%s' holds %s at index %lld: the checkpoint is corrupt",
				        t->file, name, isnan(out[i]) ? "NaN" : "an infinite value", (long long)i);
				return NULL;
			}
		t->checked = 1;
	}
	return out;
}

size_t st_drop_pages(st_file *f, const float *p)
{
	const st_tensor *t = NULL;
	for (int i = 0; i < f->n && !t; i++)
		if (f->t[i].ptr == (const uint8_t *)p && !f->t[i].converted)
			t = &f->t[i];
	if (!t)
		return 0;
	int mapped = f->mapped && t->ptr >= f->base && t->ptr < f->base + f->size;
	for (int i = 0; i < f->nshards && !mapped; i++)
		mapped = f->shards[i].mapped && t->ptr >= f->shards[i].base &&
		         t->ptr < f->shards[i].base + f->shards[i].size;
	long pg = sysconf(_SC_PAGESIZE);
	if (!mapped || pg <= 0)
		return 0;
	uintptr_t a = (uintptr_t)t->ptr, b = a + (t->end - t->begin);
	a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	b &= ~((uintptr_t)pg - 1);
	if (b <= a || madvise((void *)a, b - a, MADV_DONTNEED) < 0)
		return 0;
	return b - a;
}

/* t's values as floats, converted once into memory t owns. */
static const float *convert(st_tensor *t, const uint8_t *src)
{
	if (!t->converted) {
		float *out = cp_malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
		for (int64_t i = 0; i < t->numel; i++) {
			if (t->dtype == ST_F32) {
				memcpy(&out[i], src + 4 * i, 4);
			} else {
				uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
				out[i] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
			}
		}
		t->converted = out;
	}
	return t->converted;
}

/* ------------------------------------------------------------ directories */

#define ST_MAX_INDEX (64u << 20)
#define ST_MAX_SHARDS 4096

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = cp_malloc(n);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int exists(const char *dir, const char *name)
{
	char *p = join(dir, name);
	struct stat sb;
	int rc = stat(p, &sb) == 0;
	free(p);
	return rc;
}

/* A shard's file name as the index gives it: a plain name in the same
 * directory. */
static int shard_name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 255 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && !cp_utf8_bad(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sharded checkpoint of dir described by the index file `ipath`. */
static int open_sharded(st_file *f, const char *dir, const char *ipath, cp_err *e)
{
	char shown[CP_SHOWN_MAX];
	size_t len;
	char *text = cp_read_file(ipath, ST_MAX_INDEX, &len, NULL, e);
	if (!text)
		return -1;
	if (strlen(text) != len || cp_utf8_bad(text)) {
		free(text);
		return cp_fail(e, CP_DATA, "%s: not UTF-8 text", ipath);
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
	if (!cJSON_IsObject(root) || !cJSON_IsObject(wm)) {
		cJSON_Delete(root);
		return cp_fail(e, CP_DATA, "%s: not a JSON object with a \"weight_map\" object", ipath);
	}
	/* the distinct shard names, sorted */
	int nmap = cJSON_GetArraySize(wm), ns = 0;
	char **names = cp_calloc((size_t)(nmap ? nmap : 1), sizeof(char *));
	const cJSON *it;
	cJSON_ArrayForEach(it, wm) {
		if (!cJSON_IsString(it) || !shard_name_ok(it->valuestring)) {
			cp_fail(e, CP_DATA, "%s: weight_map: tensor '%s' names no plain shard file in the same directory",
			        ipath, cp_shown(it->string, shown));
			goto fail;
		}
		names[ns++] = it->valuestring;
	}
	if (ns == 0) {
		cp_fail(e, CP_DATA, "%s: weight_map lists no tensor", ipath);
		goto fail;
	}
	qsort(names, (size_t)ns, sizeof(char *), cmp_str);
	int k = 0;
	for (int i = 0; i < ns; i++)
		if (k == 0 || strcmp(names[k - 1], names[i]))
			names[k++] = names[i];
	ns = k;
	if (ns > ST_MAX_SHARDS) {
		cp_fail(e, CP_DATA, "%s: %d shards, more than %d", ipath, ns, ST_MAX_SHARDS);
		goto fail;
	}
	f->path = cp_strdup(ipath);
	f->shards = cp_calloc((size_t)ns, sizeof(st_shard));
	int cap = 0;
	for (int i = 0; i < ns; i++) {
		char *sp = join(dir, names[i]);
		st_file one;
		if (st_open(&one, sp, e) < 0) {
			free(sp);
			goto fail;
		}
		free(sp);
		/* take over its map and tensors */
		st_shard *sh = &f->shards[f->nshards++];
		sh->path = one.path, sh->base = one.base, sh->size = one.size, sh->mapped = 1;
		if (f->n + one.n > cap) {
			cap = 2 * (f->n + one.n);
			f->t = cp_realloc(f->t, (size_t)cap * sizeof(st_tensor));
		}
		int first = f->n;
		for (int j = 0; j < one.n; j++) {
			f->t[f->n] = one.t[j];
			f->t[f->n++].file = sh->path;
		}
		free(one.t);  /* names and buffers now belong to f->t */
		for (int j = first; j < f->n; j++) {
			const cJSON *want = cJSON_GetObjectItemCaseSensitive(wm, f->t[j].name);
			if (!want || strcmp(want->valuestring, names[i])) {
				cp_fail(e, CP_DATA, "%s: tensor '%s' is %s", sh->path, f->t[j].name,
				        want ? "in another shard in model.safetensors.index.json"
				             : "not in model.safetensors.index.json's weight_map");
				goto fail;
			}
		}
	}
	qsort(f->t, (size_t)f->n, sizeof(st_tensor), cmp_name);
	cJSON_ArrayForEach(it, wm)
		if (!st_find(f, it->string)) {
			cp_fail(e, CP_DATA, "%s: tensor '%s' is not in its shard '%s'", ipath,
			        cp_shown(it->string, shown), it->valuestring);
			goto fail;
		}
	free(names);
	cJSON_Delete(root);
	return 0;
fail:
	free(names);
	cJSON_Delete(root);
	st_close(f);
	return -1;
}

int st_open_dir(st_file *f, const char *dir, cp_err *e)
{
	memset(f, 0, sizeof(*f));
	static const struct { const char *file, *what; } other[] = {
		{"pytorch_model.bin", "PyTorch weights (pytorch_model.bin)"},
		{"pytorch_model.bin.index.json", "sharded PyTorch weights (pytorch_model.bin.index.json)"},
		{"tf_model.h5", "TensorFlow weights (tf_model.h5)"},
		{"flax_model.msgpack", "Flax weights (flax_model.msgpack)"},
		{"model.ckpt.index", "TensorFlow checkpoint (model.ckpt.index)"},
	};
	char *p = join(dir, "model.safetensors");
	if (!exists(dir, "model.safetensors") && exists(dir, "model.safetensors.index.json")) {
		free(p);
		p = join(dir, "model.safetensors.index.json");
		int rc = open_sharded(f, dir, p, e);
		free(p);
		return rc;
	}
	if (!exists(dir, "model.safetensors"))
		for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
			if (exists(dir, other[i].file)) {
				free(p);
				return cp_fail(e, CP_DATA, "%s: holds %s but no model.safetensors: chronopt reads "
				               "safetensors only (convert it, e.g. save_pretrained(..., "
				               "safe_serialization=True))", dir, other[i].what);
			}
	int rc = st_open(f, p, e);
	free(p);
	return rc;
}
