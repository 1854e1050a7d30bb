/* fcache.c — the persistent forecast cache: a forecaster wrapper that reads
 * and writes whole windows, and the stats / prune walks (see fcache.h). */
#include "fcache.h"
#include "matmul.h"
#include "durable.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "CPFCACH1"
#define BOM 0x01020304u
#define HDR 64              /* header bytes */
#define TEMP_AGE 600        /* seconds before a temp file counts as left behind */

typedef struct {
	forecaster self;
	forecaster *inner;
	char *dir;
	long long max_bytes;
	unsigned char model[32];  /* sha256 over the model's identity */
	pid_t owner;
} fc_state;

/* ------------------------------------------------------------ entries */

typedef struct {
	int rows, steps, own;
	double *data;  /* [own: steps point values] then rows*steps, row-major */
} entry;

static size_t entry_doubles(int rows, int steps, int own)
{
	return (size_t)(own ? steps : 0) + (size_t)rows * (size_t)steps;
}

/* Read the entry at path. key NULL: any key. Returns 1 with *en filled
 * (free en->data), 0 when there is no usable entry; an entry that is there
 * but does not check out is removed. headers_only: leave data NULL and skip
 * the checksum (for the dominance test before a write). */
static int entry_read(const char *path, const unsigned char *key, int headers_only, entry *en)
{
	memset(en, 0, sizeof(*en));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	unsigned char h[HDR];
	int ok = fstat(fd, &st) == 0 && st.st_size >= HDR + 32 && read(fd, h, HDR) == HDR;
	uint32_t bom = 0;
	int32_t v[3] = {0, 0, 0};
	if (ok) {
		memcpy(&bom, h + 8, 4);
		memcpy(v, h + 12, 12);
		ok = !memcmp(h, MAGIC, 8) && bom == BOM && v[0] >= 1 && v[1] >= 1 &&
		     (v[2] == 0 || v[2] == 1) && v[0] <= 1 << 20 && v[1] <= 1 << 20 &&
		     (!key || !memcmp(h + 24, key, 32));
	}
	size_t nd = ok ? entry_doubles(v[0], v[1], v[2]) : 0;
	if (ok)
		ok = (unsigned long long)st.st_size == HDR + nd * sizeof(double) + 32;
	if (ok && !headers_only) {
		size_t body = nd * sizeof(double) + 32;
		unsigned char *buf = cp_malloc(body);
		size_t got = 0;
		while (got < body) {
			ssize_t r = read(fd, buf + got, body - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		ok = got == body;
		if (ok) {
			sha256_ctx c;
			unsigned char sum[32];
			sha256_init(&c);
			sha256_update(&c, h, HDR);
			sha256_update(&c, buf, nd * sizeof(double));
			sha256_final(&c, sum);
			ok = !memcmp(sum, buf + nd * sizeof(double), 32);
		}
		if (ok) {
			en->data = cp_malloc(nd * sizeof(double) + 1);
			memcpy(en->data, buf, nd * sizeof(double));
		}
		free(buf);
	}
	close(fd);
	if (!ok) {
		unlink(path);  /* repair: a bad entry is a miss, rewritten later */
		return 0;
	}
	en->rows = v[0], en->steps = v[1], en->own = v[2];
	return 1;
}

/* Write an entry: rows x steps taken from paths (row stride `stride`
 * doubles), point[steps] when own. Errors are the caller's to ignore. */
static int entry_write(const char *path, const unsigned char key[32], int rows, int steps, int own,
                       const double *point, const double *paths, int stride)
{
	size_t nd = entry_doubles(rows, steps, own);
	size_t len = HDR + nd * sizeof(double) + 32;
	unsigned char *buf = cp_calloc(1, len);
	uint32_t bom = BOM;
	int32_t v[3] = {rows, steps, own};
	memcpy(buf, MAGIC, 8);
	memcpy(buf + 8, &bom, 4);
	memcpy(buf + 12, v, 12);
	memcpy(buf + 24, key, 32);
	double *d = (double *)(void *)(buf + HDR);
	size_t at = 0;
	if (own)
		for (int h = 0; h < steps; h++)
			d[at++] = point[h];
	for (int r = 0; r < rows; r++)
		for (int h = 0; h < steps; h++)
			d[at++] = paths[(size_t)r * stride + h];
	sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, buf, HDR + nd * sizeof(double));
	sha256_final(&c, buf + HDR + nd * sizeof(double));
	cp_err e = {0};
	int rc = atomic_write(path, buf, len, &e);
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- keys */

static void hex32(const unsigned char k[32], char out[65])
{
	static const char x[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++)
		out[2 * i] = x[k[i] >> 4], out[2 * i + 1] = x[k[i] & 15];
	out[64] = '\0';
}

/* "<dir>/entries/<2 hex>/<62 hex>.<suffix>"; caller frees. mkdir: create
 * the two-hex directory first. */
static char *entry_path(const fc_state *st, const unsigned char key[32], const char *suffix, int mkdir_too)
{
	char hx[65];
	hex32(key, hx);
	size_t n = strlen(st->dir) + 64 + strlen(suffix) + 32;
	char *p = cp_malloc(n);
	if (mkdir_too) {
		snprintf(p, n, "%s/entries/%.2s", st->dir, hx);
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			free(p);
			return NULL;
		}
	}
	snprintf(p, n, "%s/entries/%.2s/%s.%s", st->dir, hx, hx + 2, suffix);
	return p;
}

static void window_key(const fc_state *st, const fc_config *cfg, const double *ctx, int n,
                       uint64_t seed, uint64_t stream, unsigned char out[32])
{
	/* bump the version when a forecaster's arithmetic changes (as the
	 * packed kernels of matmul_pack.c did): old entries then never hit */
	static const char tag[] = "chronopt-forecast-cache/3";
	sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, tag, sizeof(tag));
	sha256_update(&c, st->model, 32);
	/* OpenBLAS's thread count can change the last bits (opt-search(1)) */
	int32_t th = mm_threads();
	sha256_update(&c, &th, sizeof(th));
	if (st->inner->nquantiles == 0) {
		int32_t k = cfg->top_k;
		sha256_update(&c, &cfg->temperature, sizeof(double));
		sha256_update(&c, &k, sizeof(k));
		sha256_update(&c, &cfg->top_p, sizeof(double));
		sha256_update(&c, &seed, sizeof(seed));
		sha256_update(&c, &stream, sizeof(stream));
	}
	int32_t nn = n;
	sha256_update(&c, &nn, sizeof(nn));
	sha256_update(&c, ctx, (size_t)n * sizeof(double));
	sha256_final(&c, out);
}

/* ------------------------------------------------------------ forecast */

static void usage_line(const fc_state *st, long long hits, long long misses, long long written)
{
	size_t n = strlen(st->dir) + 16;
	char *p = cp_malloc(n);
	snprintf(p, n, "%s/usage.log", st->dir);
	int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	free(p);
	if (fd < 0)
		return;
	char line[96];
	int len = snprintf(line, sizeof(line), "%lld %lld %lld\n", hits, misses, written);
	if (write(fd, line, (size_t)len) != len) {
		/* statistics only: a lost line is not an error */
	}
	close(fd);
}

enum { K_ROWS, K_EXACT };

static int fc_cached(forecaster *f, const fc_config *cfg, int nwin, const double *const *ctx,
                     const int *nctx, int steps, uint64_t seed, const uint64_t *stream,
                     double *paths, double *point, cp_err *e)
{
	fc_state *st = f->state;
	forecaster *in = st->inner;
	int rows = fc_rows(in, cfg);
	/* settings the model would refuse are never looked up */
	if (nwin < 1 || steps < 1 || rows < 1 || cfg->context_length < 1 ||
	    (in->nquantiles == 0 && (!(cfg->temperature > 0) || cfg->top_k < 0 ||
	                             !(cfg->top_p >= 0 && cfg->top_p <= 1))))
		return in->forecast(in, cfg, nwin, ctx, nctx, steps, seed, stream, paths, point, e);
	for (int w = 0; w < nwin; w++)
		if (nctx[w] < 1)
			return in->forecast(in, cfg, nwin, ctx, nctx, steps, seed, stream, paths, point, e);

	/* see the entry kinds in fcache.h */
	int kind = in->steps_prefix ? K_ROWS : K_EXACT;
	char suffix[40];
	if (kind == K_ROWS)
		snprintf(suffix, sizeof(suffix), "r%d", rows);
	else
		snprintf(suffix, sizeof(suffix), "r%ds%d", rows, steps);

	size_t per = (size_t)rows * steps;
	unsigned char (*key)[32] = cp_malloc((size_t)nwin * 32);
	int *miss = cp_malloc((size_t)nwin * sizeof(int));
	int nmiss = 0, own = -1, mixed = 0;
	double *tmp_point = point ? NULL : cp_malloc((size_t)nwin * steps * sizeof(double));
	double *pt = point ? point : tmp_point;
	for (int w = 0; w < nwin; w++) {
		int n = nctx[w] < cfg->context_length ? nctx[w] : cfg->context_length;
		if (in->max_context > 0 && n > in->max_context)
			n = in->max_context;
		window_key(st, cfg, ctx[w] + nctx[w] - n, n, seed, stream[w], key[w]);
		char *p = entry_path(st, key[w], suffix, 0);
		entry en;
		int hit = entry_read(p, key[w], 0, &en);
		if (hit && (en.rows != rows || en.steps < steps || (kind == K_EXACT && en.steps != steps)))
			hit = 0;
		if (hit) {
			const double *d = en.data;
			if (en.own)
				memcpy(pt + (size_t)w * steps, d, (size_t)steps * sizeof(double)), d += en.steps;
			for (int r = 0; r < rows; r++)
				memcpy(paths + (size_t)w * per + (size_t)r * steps, d + (size_t)r * en.steps,
				       (size_t)steps * sizeof(double));
			if (own >= 0 && own != en.own)
				mixed = 1;
			own = en.own;
			struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
			utimensat(AT_FDCWD, p, now, 0);  /* least recently used */
		} else {
			miss[nmiss++] = w;
		}
		free(en.data);
		free(p);
	}
	if (mixed) {  /* cannot happen for one model; recompute rather than guess */
		nmiss = 0;
		for (int w = 0; w < nwin; w++)
			miss[nmiss++] = w;
	}

	int rc = 0;
	long long written = 0;
	if (nmiss > 0) {
		const double **mc = cp_malloc((size_t)nmiss * sizeof(*mc));
		int *mn = cp_malloc((size_t)nmiss * sizeof(int));
		uint64_t *ms = cp_malloc((size_t)nmiss * sizeof(uint64_t));
		for (int i = 0; i < nmiss; i++)
			mc[i] = ctx[miss[i]], mn[i] = nctx[miss[i]], ms[i] = stream[miss[i]];
		int all = nmiss == nwin;
		double *mp = all ? paths : cp_malloc((size_t)nmiss * per * sizeof(double));
		double *mq = all ? pt : cp_malloc((size_t)nmiss * steps * sizeof(double));
		rc = in->forecast(in, cfg, nmiss, mc, mn, steps, seed, ms, mp, mq, e);
		if (rc >= 0) {
			if (own >= 0 && own != rc)
				rc = cp_fail(e, CP_INTERNAL, "%s: the cache and the model disagree on the point forecast",
				             in->name);
			else
				own = rc;
		}
		for (int i = 0; rc >= 0 && i < nmiss; i++) {
			int w = miss[i];
			const double *wp = mp + (size_t)i * per, *wq = mq + (size_t)i * steps;
			if (!all) {
				memcpy(paths + (size_t)w * per, wp, per * sizeof(double));
				memcpy(pt + (size_t)w * steps, wq, (size_t)steps * sizeof(double));
			}
			/* keep the longest decode of these rows: it serves every
			 * shorter horizon (K_ROWS) */
			char *p = entry_path(st, key[w], suffix, 1);
			entry old;
			if (p && !(entry_read(p, key[w], 1, &old) && old.rows == rows && old.steps >= steps) &&
			    entry_write(p, key[w], rows, steps, own, wq, wp, steps) == 0)
				written += (long long)(entry_doubles(rows, steps, own) * sizeof(double) + HDR + 32);
			free(p);
		}
		free(mc), free(mn), free(ms);
		if (!all)
			free(mp), free(mq);
	}
	usage_line(st, nwin - nmiss, nmiss, written);
	free(key);
	free(miss);
	free(tmp_point);
	return rc < 0 ? -1 : own;
}

static void fc_cached_free(forecaster *f)
{
	if (!f)
		return;
	fc_state *st = f->state;
	if (st->owner == getpid()) {
		cp_err e = {0};
		fcache_prune(st->dir, st->max_bytes, 0, 0, NULL, &e);  /* busy: another prunes */
	}
	st->inner->free(st->inner);
	free(st->dir);
	free(st);
}

/* --------------------------------------------------------------- setup */

static int mkdir_p(const char *dir, cp_err *e)
{
	char *p = cp_strdup(dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST) {
				cp_fail_errno(e, "cannot create the cache directory '%s'", p);
				free(p);
				return -1;
			}
			*s = '/';
		}
	int rc = 0;
	if (mkdir(p, 0777) != 0 && errno != EEXIST)
		rc = cp_fail_errno(e, "cannot create the cache directory '%s'", p);
	free(p);
	return rc;
}

forecaster *fcache_wrap(forecaster *inner, const char *model_dir, const char *dir,
                        long long max_bytes, cp_err *e)
{
	if (!inner->family)
		return inner;
	size_t n = strlen(dir) + 16;
	char *ent = cp_malloc(n);
	snprintf(ent, n, "%s/entries", dir);
	int rc = mkdir_p(ent, e);
	free(ent);
	char w[65], c[65];
	size_t m = strlen(model_dir) + 32;
	char *p = cp_malloc(m);
	if (rc == 0) {
		snprintf(p, m, "%s/model.safetensors", model_dir);
		rc = sha256_file(p, w, e);
	}
	if (rc == 0) {
		snprintf(p, m, "%s/config.json", model_dir);
		rc = sha256_file(p, c, e);
	}
	free(p);
	if (rc < 0) {
		inner->free(inner);
		return NULL;
	}
	fc_state *st = cp_calloc(1, sizeof(*st));
	st->inner = inner;
	st->dir = cp_strdup(dir);
	st->max_bytes = max_bytes;
	st->owner = getpid();
	sha256_ctx x;
	sha256_init(&x);
	sha256_update(&x, w, 64);
	sha256_update(&x, c, 64);
	sha256_update(&x, inner->name, strlen(inner->name) + 1);
	sha256_final(&x, st->model);
	forecaster *f = &st->self;
	*f = *inner;
	f->state = st;
	f->forecast = fc_cached;
	f->free = fc_cached_free;
	return f;
}

void fcache_select(const char *dir)
{
	setenv("CHRONOPT_CACHE", dir ? dir : "", 1);
}

int fcache_env_max_bytes(long long *max_bytes, cp_err *e)
{
	long mb = FCACHE_DEFAULT_MAX_MB;
	const char *v = getenv("CHRONOPT_CACHE_MAX_MB");
	if (v && *v && cp_parse_long(v, 1, 1048576, &mb) < 0)
		return cp_fail(e, CP_USAGE, "CHRONOPT_CACHE_MAX_MB='%.20s' is not an integer in 1..1048576", v);
	*max_bytes = (long long)mb << 20;
	return 0;
}

forecaster *fcache_from_env(forecaster *f, const char *model_dir, cp_err *e)
{
	const char *dir = getenv("CHRONOPT_CACHE");
	if (!f || !f->family || !dir || !*dir)
		return f;
	long long max;
	if (fcache_env_max_bytes(&max, e) < 0) {
		f->free(f);
		return NULL;
	}
	return fcache_wrap(f, model_dir, dir, max, e);
}

/* ---------------------------------------------------------- the walks */

typedef struct {
	char *path;
	time_t mtime;
	long long size;
} file_ent;

static int is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

/* Every file under <dir>/entries/<xx>/: entries into *v (when v), temps
 * counted, and removed when older than TEMP_AGE and `clean`. */
static int walk(const char *dir, file_ent **v, long long *nv, fcache_stat *st, int clean,
                long long *removed, cp_err *e)
{
	size_t n = strlen(dir) + 16;
	char *top = cp_malloc(n);
	snprintf(top, n, "%s/entries", dir);
	DIR *d = opendir(top);
	if (!d) {
		int err = errno;
		free(top);
		if (err == ENOENT)
			return 0;
		errno = err;
		return cp_fail_errno(e, "cannot read the cache directory '%s/entries'", dir);
	}
	long long cap = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		size_t m = strlen(top) + 8;
		char *sub = cp_malloc(m);
		snprintf(sub, m, "%s/%s", top, de->d_name);
		DIR *d2 = opendir(sub);
		struct dirent *f;
		while (d2 && (f = readdir(d2))) {
			if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, ".."))
				continue;
			size_t k = strlen(sub) + strlen(f->d_name) + 2;
			char *p = cp_malloc(k);
			snprintf(p, k, "%s/%s", sub, f->d_name);
			struct stat sb;
			if (lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) {
				free(p);
				continue;
			}
			if (is_temp(f->d_name)) {
				if (clean && now - sb.st_mtime > TEMP_AGE && unlink(p) == 0) {
					if (removed)
						++*removed;
				} else {
					st->temps++;
				}
				free(p);
				continue;
			}
			st->entries++;
			st->bytes += sb.st_size;
			if (v) {
				if (*nv == cap) {
					cap = cap ? 2 * cap : 1024;
					*v = realloc(*v, (size_t)cap * sizeof(file_ent));
					if (!*v)
						abort();
				}
				(*v)[*nv].path = p;
				(*v)[*nv].mtime = sb.st_mtime;
				(*v)[*nv].size = sb.st_size;
				++*nv;
			} else {
				free(p);
			}
		}
		if (d2)
			closedir(d2);
		free(sub);
	}
	closedir(d);
	free(top);
	return 0;
}

int fcache_stats(const char *dir, fcache_stat *st, cp_err *e)
{
	memset(st, 0, sizeof(*st));
	if (walk(dir, NULL, NULL, st, 0, NULL, e) < 0)
		return -1;
	size_t n = strlen(dir) + 16;
	char *p = cp_malloc(n);
	snprintf(p, n, "%s/usage.log", dir);
	FILE *fp = fopen(p, "r");
	free(p);
	if (fp) {
		long long h, m, w;
		char line[128];
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, "%lld %lld %lld", &h, &m, &w) == 3) {
				st->hits += h, st->misses += m, st->written += w;
				st->calls++;
			}
		fclose(fp);
	}
	return 0;
}

static int by_mtime(const void *a, const void *b)
{
	const file_ent *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	if (!x->path || !y->path)
		return !x->path - !y->path;
	return strcmp(x->path, y->path);
}

int fcache_prune(const char *dir, long long max_bytes, int verify, long wait_ms,
                 long long *removed, cp_err *e)
{
	long long rm = 0;
	size_t n = strlen(dir) + 16;
	char *lp = cp_malloc(n);
	snprintf(lp, n, "%s/prune", dir);
	struct stat sb;
	if (stat(dir, &sb) != 0) {  /* no cache: nothing to prune */
		free(lp);
		if (removed)
			*removed = 0;
		if (errno == ENOENT)
			return 0;
		return cp_fail_errno(e, "cannot read the cache directory '%s'", dir);
	}
	cp_lock l;
	int rc = lock_acquire(&l, lp, wait_ms, e);
	free(lp);
	if (rc < 0)
		return -1;
	file_ent *v = NULL;
	long long nv = 0;
	fcache_stat st = {0};
	rc = walk(dir, &v, &nv, &st, 1, &rm, e);
	if (rc == 0) {
		long long total = st.bytes;
		if (verify)
			for (long long i = 0; i < nv; i++) {
				entry en;
				if (entry_read(v[i].path, NULL, 0, &en)) {
					free(en.data);
				} else {
					total -= v[i].size, rm++;
					free(v[i].path);
					v[i].path = NULL;
				}
			}
		qsort(v, (size_t)nv, sizeof(*v), by_mtime);
		for (long long i = 0; i < nv && total > max_bytes; i++)
			if (v[i].path && unlink(v[i].path) == 0)
				total -= v[i].size, rm++;
	}
	for (long long i = 0; i < nv; i++)
		free(v[i].path);
	free(v);
	lock_release(&l);
	if (removed)
		*removed = rm;
	return rc;
}
