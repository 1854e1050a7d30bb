/* test_chronos2.c — Chronos-2 loader refusals (config.json and
 * model.safetensors broken in the ways a download or a hostile file can be:
 * each refused with CP_DATA naming the file and the key or tensor), the
 * quantile helpers against hand-computed values, and properties of the
 * forward pass the golden files do not isolate: groups mix only within
 * themselves, a series' result does not depend on other groups in the call,
 * missing values at the start change nothing, the matmul twin agrees. */
#include "tap.h"
#include "ckpt.h"
#include "chronos2.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[256], base[512];
static char *cfg_text;
static size_t cfg_len;
static st_file src;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

/* Write tmp/config.json with `from` replaced by `to` (NULL: unchanged). */
static void write_config(const char *from, const char *to)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/config.json", tmp);
	if (!from) {
		ck_write(path, cfg_text, cfg_len);
		return;
	}
	const char *at = strstr(cfg_text, from);
	if (!at) {
		printf("# pattern '%s' not in config\n", from);
		return;
	}
	size_t n = (size_t)(at - cfg_text), fl = strlen(from), tl = strlen(to);
	char *b = malloc(cfg_len + tl + 1);
	memcpy(b, cfg_text, n);
	memcpy(b + n, to, tl);
	memcpy(b + n + tl, at + fl, cfg_len - n - fl);
	ck_write(path, b, cfg_len - fl + tl);
	free(b);
}

/* Write tmp/model.safetensors from the source tensors, leaving out `drop`,
 * relabelling `retype` as `dtype` (same element size), swapping the two
 * dimensions of `transpose`, and adding a one-float tensor `extra`. */
static void write_model(const char *drop, const char *retype, const char *dtype, const char *transpose,
                        const char *extra)
{
	ck_tensor *t = calloc((size_t)src.n + 1, sizeof(ck_tensor));
	size_t dl = 4;
	int n = 0;
	for (int i = 0; i < src.n; i++)
		dl += src.t[i].end - src.t[i].begin;
	uint8_t *data = calloc(1, dl), *p = data;
	for (int i = 0; i < src.n; i++) {
		const st_tensor *s = &src.t[i];
		if (drop && strcmp(s->name, drop) == 0)
			continue;
		t[n].name = s->name;
		t[n].dtype = retype && strcmp(s->name, retype) == 0 ? dtype : "F32";
		t[n].ndim = s->ndim;
		memcpy(t[n].shape, s->shape, sizeof(int64_t) * (size_t)s->ndim);
		if (transpose && strcmp(s->name, transpose) == 0 && s->ndim == 2) {
			t[n].shape[0] = s->shape[1];
			t[n].shape[1] = s->shape[0];
		}
		t[n].nbytes = s->end - s->begin;
		memcpy(p, src.data + s->begin, t[n].nbytes);
		p += t[n].nbytes;
		n++;
	}
	if (extra) {
		t[n] = (ck_tensor){.name = extra, .dtype = "F32", .ndim = 1, .shape = {1}, .nbytes = 4};
		p += 4;
		n++;
	}
	size_t hlen, len;
	char *hdr = ck_header(t, n, &hlen);
	uint8_t *img = ck_image(hdr, hlen, data, (size_t)(p - data), &len);
	char path[600];
	snprintf(path, sizeof(path), "%s/model.safetensors", tmp);
	ck_write(path, img, len);
	free(img), free(hdr), free(data), free(t);
}

static void expect(int code, const char *want, const char *name)
{
	cp_err e = {0};
	chronos2_model *m = chronos2_load(tmp, &e);
	char full[1200];
	snprintf(full, sizeof(full), want, tmp);
	int ok = !m && e.code == code && strcmp(e.msg, full) == 0;
	if (!ok)
		printf("#   got code %d '%s'\n#   want code %d '%s'\n", e.code, e.msg, code, full);
	chronos2_free(m);
	CHECK(ok, name);
}

static void refusals(void)
{
	cp_err e = {0};
	write_config(NULL, NULL);
	write_model(NULL, NULL, NULL, NULL, NULL);
	chronos2_model *m = chronos2_load(tmp, &e);
	CHECK(m != NULL, "rewritten copy loads");
	chronos2_free(m);

	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.1.layer.1.self_attention.k.weight' is missing",
	       (write_model("encoder.block.1.layer.1.self_attention.k.weight", NULL, NULL, NULL, NULL),
	        "missing group-attention tensor names file and tensor"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'output_patch_embedding.residual_layer.bias' is missing",
	       (write_model("output_patch_embedding.residual_layer.bias", NULL, NULL, NULL, NULL),
	        "missing head bias"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'input_patch_embedding.hidden_layer.weight' has shape "
	       "[12, 32], expected [32, 12]",
	       (write_model(NULL, NULL, NULL, "input_patch_embedding.hidden_layer.weight", NULL),
	        "transposed embedding weight: shape named"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.0.layer.2.mlp.wo.weight' has dtype 'I32', "
	       "expected F32, F16 or BF16",
	       (write_model(NULL, "encoder.block.0.layer.2.mlp.wo.weight", "I32", NULL, NULL), "wrong dtype"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.2.layer.0.layer_norm.weight' is not part of "
	       "a Chronos-2 model with config.json's shape (2 layers)",
	       (write_model(NULL, NULL, NULL, NULL, "encoder.block.2.layer.0.layer_norm.weight"),
	        "a tensor of a deeper model is refused by name"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'lm_head.weight' is not part of a Chronos-2 model with "
	       "config.json's shape (2 layers)",
	       (write_model(NULL, NULL, NULL, NULL, "lm_head.weight"), "a foreign tensor is refused by name"));
	write_model(NULL, NULL, NULL, NULL, NULL);
	expect(CP_DATA, "%s/config.json: a chronos-bolt checkpoint, not Chronos-2",
	       (write_config("\"Chronos2Pipeline\"", "\"ChronosBoltPipeline\""), "another family refused"));
	expect(CP_DATA, "%s/config.json: 'feed_forward_proj' 'gated-gelu': gated feed-forward layers are not "
	       "part of Chronos-2", (write_config("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": "
	       "\"gated-gelu\""), "gated feed-forward refused"));
	expect(CP_DATA, "%s/config.json: 'd_kv' 5 is odd: rotary embedding needs an even head size",
	       (write_config("\"d_kv\": 4", "\"d_kv\": 5"), "odd d_kv refused"));
	expect(CP_DATA, "%s/config.json: chronos_config: unknown key 'prediction_length' (not a Chronos-2 setting)",
	       (write_config("\"use_reg_token\": true", "\"use_reg_token\": true, \"prediction_length\": 64"),
	        "unknown chronos_config key refused"));
	expect(CP_DATA, "%s/config.json: chronos_config: input_patch_size 4 and output_patch_size 8 differ "
	       "(Chronos-2 needs them equal)",
	       (write_config("\"output_patch_size\": 4", "\"output_patch_size\": 8"), "patch sizes differ"));
	expect(CP_DATA, "%s/config.json: chronos_config: use_reg_token false is not supported (the public "
	       "Chronos-2 forward pass needs the [REG] token)",
	       (write_config("\"use_reg_token\": true", "\"use_reg_token\": false"), "no [REG] token refused"));
	expect(CP_DATA, "%s/config.json: chronos_config: quantiles[0] must be a number strictly between 0 and 1",
	       (write_config("0.01,", "0,"), "quantile level 0 refused"));
	expect(CP_DATA, "%s/config.json: chronos_config: 'input_patch_stride' is missing",
	       (write_config("\"input_patch_stride\": 4,", ""), "missing required chronos_config key"));
	write_config(NULL, NULL);
}

/* ------------------------------------------------------------ helpers */

static void quantile_helpers(void)
{
	float lv[3] = {0.9f, 0.1f, 0.5f}, vv[3] = {30, 10, 20};
	float q[5] = {0.0f, 0.05f, 0.3f, 0.7f, 1.0f}, out[5];
	chronos2_interpolate(q, 5, lv, vv, 3, out);
	CHECK(out[0] == 10 && out[1] == 10, "interpolate: flat below the lowest level (levels given unsorted)");
	CHECK_NEAR(out[2], 15, 1e-6, "interpolate: linear between 0.1 and 0.5");
	CHECK_NEAR(out[3], 25, 1e-6, "interpolate: linear between 0.5 and 0.9");
	CHECK(out[4] == 30, "interpolate: flat above the highest level");
	/* weighted quantile: samples 3, 1, 2 with weights 1, 1, 2 -> sorted 1 (0.25),
	 * 2 (0.75), 3 (1.0); level 0.5 lies halfway from 1 to 2 */
	float w[3] = {1, 1, 2}, s[3] = {3, 1, 2}, scratch[6 * 3 + 4], r[3];
	float wq[3] = {0.1f, 0.5f, 0.875f};
	chronos2_weighted_quantile(wq, 3, w, s, 3, scratch, r);
	CHECK(r[0] == 1, "weighted quantile: below the first cumulative weight is the smallest sample");
	CHECK_NEAR(r[1], 1.5, 1e-6, "weighted quantile: interpolated on cumulative weights");
	CHECK_NEAR(r[2], 2.5, 1e-6, "weighted quantile: between the last two");
}

/* ----------------------------------------------------- forward properties */

static void walk(float *x, int n, float start, uint64_t seed)
{
	uint64_t st = seed;
	float v = start;
	for (int i = 0; i < n; i++) {
		v += (float)((double)(ck_rng(&st) >> 11) / 9007199254740992.0 - 0.5);
		x[i] = v;
	}
}

static double maxdiff(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]) / (fabs(b[i]) > 1 ? fabs(b[i]) : 1);
		m = d > m || isnan(d) ? d : m;
	}
	return m;
}

static void properties(void)
{
	cp_err e = {0};
	chronos2_model *m = chronos2_load(base, &e);
	CHECK(m != NULL, "tiny model loads");
	if (!m)
		return;
	int nq = m->c.num_quantiles, p = m->c.patch_size, CL = m->c.context_length;
	int H = 2 * p, len = H;
	float a[64], b[64], c[64];
	walk(a, 40, 100, 1), walk(b, 25, -3, 2), walk(c, 40, 7, 3);
	size_t one = (size_t)nq * len;
	float *alone = malloc(sizeof(float) * one * 3), *mix = malloc(sizeof(float) * one * 3);
	float *grp = malloc(sizeof(float) * one * 3);
	c2_series s1[1] = {{a, 40, 0, NULL, 0}};
	chronos2_forward(m, 1, s1, 2, 0, alone, &e);
	c2_series s3[3] = {{b, 25, 5, NULL, 0}, {a, 40, 9, NULL, 0}, {c, 40, 6, NULL, 0}};
	chronos2_forward(m, 3, s3, 2, 0, mix, &e);
	CHECK(maxdiff(mix + one, alone, one) < 1e-6, "a series in its own group: same result alone and in a call "
	      "with other groups");
	c2_series g3[3] = {{b, 25, 5, NULL, 0}, {a, 40, 5, NULL, 0}, {c, 40, 6, NULL, 0}};
	chronos2_forward(m, 3, g3, 2, 0, grp, &e);
	CHECK(maxdiff(grp + one, alone, one) > 1e-3, "a series grouped with another is changed by it");
	CHECK(maxdiff(grp + 2 * one, mix + 2 * one, one) < 1e-6, "a third group is untouched by that grouping");
	/* missing values at the start: a whole patch of NaN and a partial one */
	float pad[64 + 8];
	for (int i = 0; i < p + 2; i++)
		pad[i] = NAN;
	memcpy(pad + p + 2, a + (40 - (CL - p - 2)), sizeof(float) * (size_t)(CL - p - 2));
	c2_series sp[1] = {{pad, CL, 0, NULL, 0}}, st[1] = {{a + (40 - (CL - p - 2)), CL - p - 2, 0, NULL, 0}};
	float *x1 = malloc(sizeof(float) * one), *x2 = malloc(sizeof(float) * one);
	chronos2_forward(m, 1, sp, 2, 0, x1, &e);
	chronos2_forward(m, 1, st, 2, 0, x2, &e);
	CHECK(maxdiff(x1, x2, one) < 1e-5, "leading missing values give the forecast of the observed values alone");
	/* a group wider than a series is long: six members, nothing observed */
	float nan3[3] = {NAN, NAN, NAN};
	c2_series six[6];
	for (int i = 0; i < 6; i++)
		six[i] = (c2_series){nan3, 3, 4, NULL, 0};
	float *o6 = malloc(sizeof(float) * (size_t)nq * p * 6);
	int ok6 = chronos2_forward(m, 6, six, 1, 0, o6, &e) == 0;
	for (int i = 0; ok6 && i < nq * p * 6; i++)
		ok6 = isfinite(o6[i]) && fabsf(o6[i] - o6[i % (nq * p)]) <= 1e-5f * (fabsf(o6[i]) + 1);
	CHECK(ok6, "six identical members of one group with nothing observed: finite and equal forecasts "
	      "(to rounding)");
	free(o6);
	m->gemm = mm_gemm_naive;
	chronos2_forward(m, 3, s3, 2, 0, grp, &e);
	CHECK(maxdiff(grp, mix, one * 3) < 1e-5, "naive matmul twin agrees with cblas");
	m->gemm = mm_gemm;
	/* arguments */
	CHECK(chronos2_forward(m, 1, s1, 0, 0, x1, &e) < 0 && e.code == CP_USAGE, "zero output patches refused");
	c2_series empty[1] = {{a, 0, 0, NULL, 0}};
	CHECK(chronos2_forward(m, 1, empty, 1, 0, x1, &e) < 0 && e.code == CP_USAGE, "empty series refused");
	double bad = 0.42;
	c2_predict_opts o = {.nunrolled = 1, .unrolled = &bad};
	CHECK(chronos2_predict(m, 1, s1, 3 * p * m->c.max_output_patches, &o, x1, &e) < 0 && e.code == CP_USAGE,
	      "an unrolled level that is not a model level is refused");
	free(alone), free(mix), free(grp), free(x1), free(x2);
	chronos2_free(m);
}

/* Every file of testdata/fuzz-corpus/chronos2_config (seeds and any input
 * the fuzzer crashed on) is accepted or refused with CP_DATA naming it. */
static void fuzz_replay(const char *root)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/testdata/fuzz-corpus/chronos2_config", root);
	DIR *d = opendir(dir);
	CHECK(d != NULL, "chronos2_config fuzz corpus present");
	if (!d)
		return;
	struct dirent *de;
	int n = 0, ok = 0, accepted = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		size_t len;
		char *buf = slurp(path, &len);
		c2_config c;
		cp_err e = {0};
		int rc = buf ? c2_config_parse(&c, buf, len, de->d_name, &e) : -2;
		n++;
		if (rc == 0)
			ok++, accepted++;
		else if (rc == -1 && e.code == CP_DATA && strncmp(e.msg, de->d_name, strlen(de->d_name)) == 0)
			ok++;
		else
			printf("#   %s: rc %d code %d '%s'\n", de->d_name, rc, e.code, e.msg);
		free(buf);
	}
	closedir(d);
	char msg[200];
	snprintf(msg, sizeof(msg), "chronos2_config corpus: %d files accepted (%d) or refused with a named "
	         "CP_DATA message", n, accepted);
	CHECK(n > 0 && ok == n, msg);
}

int main(void)
{
	mm_set_threads(1);
	const char *root = getenv("CHRONOPT_ROOT");
	snprintf(base, sizeof(base), "%s/testdata/chronos2/tiny", root ? root : ".");
	snprintf(tmp, sizeof(tmp), "%s/chronopt-c2-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	char path[600];
	snprintf(path, sizeof(path), "%s/config.json", base);
	cfg_text = slurp(path, &cfg_len);
	snprintf(path, sizeof(path), "%s/model.safetensors", base);
	cp_err e = {0};
	CHECK(cfg_text && st_open(&src, path, &e) == 0, "source checkpoint readable");
	refusals();
	fuzz_replay(root ? root : ".");
	quantile_helpers();
	properties();
	snprintf(path, sizeof(path), "%s/config.json", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/model.safetensors", tmp);
	unlink(path);
	rmdir(tmp);
	st_close(&src);
	free(cfg_text);
	return tap_done();
}
