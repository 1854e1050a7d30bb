/* bench_chronos2.c — per-window time of the C Chronos-2 on a random-weight
 * model with the published amazon/chronos-2 shape (d_model 768, 12 heads x
 * 64, d_ff 3072, 12 layers, patch 16, 21 quantiles; 120M parameters),
 * batch 1, context 512, 1 OpenBLAS thread: chronos2_predict for a 64-step
 * horizon (one forward pass of 4 output patches), best of 5 after a
 * warm-up, wall and CPU time.  CHRONOS2_BENCH_DIMS=small uses d_model 512,
 * 8 heads, d_ff 2048, 6 layers instead.  One line of key=value pairs
 * starting with "chronos2" for scripts/bench to parse.  The checkpoint is
 * written to a temporary directory (F32) and removed. */
#include "../unit/ckpt.h"
#include "chronos2.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct { const char *name; int d, dk, ff, L, H; } dims;

/* Write dir/config.json and dir/model.safetensors for dims dm (random
 * uniform weights of std ~ fan_in^-0.5, norms 1). */
static int write_model(const char *dir, const dims *dm)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"architectures\": [\"Chronos2Model\"], \"chronos_config\": {\"context_length\": 8192, "
	        "\"input_patch_size\": 16, \"input_patch_stride\": 16, \"max_output_patches\": 64, "
	        "\"output_patch_size\": 16, \"quantiles\": [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, "
	        "0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99], \"time_encoding_scale\": 8192, "
	        "\"use_arcsinh\": true, \"use_reg_token\": true}, \"d_ff\": %d, \"d_kv\": %d, \"d_model\": %d, "
	        "\"feed_forward_proj\": \"relu\", \"num_heads\": %d, \"num_layers\": %d}\n",
	        dm->ff, dm->dk, dm->d, dm->H, dm->L);
	if (fclose(f) != 0)
		return -1;
	int d = dm->d, inner = dm->H * dm->dk, ff = dm->ff, P = 16, Q = 21;
	int cap = 14 + 13 * dm->L, n = 0;  /* shared, final norm, 2 x 6 head tensors; 13 per layer */
	ck_tensor *t = calloc((size_t)cap, sizeof(ck_tensor));
	char (*names)[96] = calloc((size_t)cap, 96);
#define ADD(a, b, ...) do { snprintf(names[n], 96, __VA_ARGS__); \
	t[n] = (ck_tensor){.name = names[n], .dtype = "F32", .ndim = (b) ? 2 : 1, .shape = {(a), (b)}, \
	                   .nbytes = (size_t)(a) * ((b) ? (b) : 1) * 4}; n++; } while (0)
	ADD(2, d, "shared.weight");
	ADD(d, 0, "encoder.final_layer_norm.weight");
	const char *rb[2] = {"input_patch_embedding", "output_patch_embedding"};
	int in[2] = {3 * P, d}, out[2] = {d, Q * P};
	for (int k = 0; k < 2; k++) {
		ADD(ff, in[k], "%s.hidden_layer.weight", rb[k]);
		ADD(ff, 0, "%s.hidden_layer.bias", rb[k]);
		ADD(out[k], ff, "%s.output_layer.weight", rb[k]);
		ADD(out[k], 0, "%s.output_layer.bias", rb[k]);
		ADD(out[k], in[k], "%s.residual_layer.weight", rb[k]);
		ADD(out[k], 0, "%s.residual_layer.bias", rb[k]);
	}
	for (int l = 0; l < dm->L; l++) {
		for (int s = 0; s < 2; s++) {
			ADD(d, 0, "encoder.block.%d.layer.%d.layer_norm.weight", l, s);
			ADD(inner, d, "encoder.block.%d.layer.%d.self_attention.q.weight", l, s);
			ADD(inner, d, "encoder.block.%d.layer.%d.self_attention.k.weight", l, s);
			ADD(inner, d, "encoder.block.%d.layer.%d.self_attention.v.weight", l, s);
			ADD(d, inner, "encoder.block.%d.layer.%d.self_attention.o.weight", l, s);
		}
		ADD(d, 0, "encoder.block.%d.layer.2.layer_norm.weight", l);
		ADD(ff, d, "encoder.block.%d.layer.2.mlp.wi.weight", l);
		ADD(d, ff, "encoder.block.%d.layer.2.mlp.wo.weight", l);
	}
#undef ADD
	size_t hlen;
	char *hdr = ck_header(t, n, &hlen);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	f = fopen(path, "wb");
	int ok = f != NULL;
	uint8_t len8[8];
	for (int i = 0; i < 8; i++)
		len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
	ok = ok && fwrite(len8, 1, 8, f) == 8 && fwrite(hdr, 1, hlen, f) == hlen;
	uint64_t st = 7;
	for (int i = 0; ok && i < n; i++) {
		size_t cnt = t[i].nbytes / 4;
		float *v = malloc(t[i].nbytes);
		int norm = strstr(t[i].name, "layer_norm") != NULL;
		float sc = t[i].ndim == 2 ? 1.7f / sqrtf((float)t[i].shape[1]) : 0.1f;
		for (size_t j = 0; j < cnt; j++)
			v[j] = norm ? 1.0f : sc * (float)((double)(ck_rng(&st) >> 11) / 9007199254740992.0 - 0.5) * 2.0f;
		ok = fwrite(v, 1, t[i].nbytes, f) == t[i].nbytes;
		free(v);
	}
	if (f && fclose(f) != 0)
		ok = 0;
	free(hdr), free(t), free(names);
	return ok ? 0 : -1;
}

int main(void)
{
	const char *which = getenv("CHRONOS2_BENCH_DIMS");
	dims dm = {"chronos-2", 768, 64, 3072, 12, 12};
	if (which && strcmp(which, "small") == 0)
		dm = (dims){"small", 512, 64, 2048, 6, 8};
	mm_set_threads(1);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s/chronopt-bench2-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("bench_chronos2: mkdtemp");
		return 1;
	}
	int rc = 0;
	chronos2_model *m = NULL;
	cp_err e = {0};
	if (write_model(tmp, &dm) < 0) {
		fprintf(stderr, "bench_chronos2: cannot write a checkpoint in %s\n", tmp);
		rc = 1;
	} else if (!(m = chronos2_load(tmp, &e))) {
		fprintf(stderr, "bench_chronos2: %s\n", e.msg);
		rc = 1;
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/config.json", tmp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/model.safetensors", tmp);
	unlink(path);
	rmdir(tmp);
	if (rc)
		return rc;
	int ctx = 512, horizon = 64;
	float *x = malloc(sizeof(float) * ctx);
	uint64_t st = 3;
	float v = 100;
	for (int i = 0; i < ctx; i++) {
		v += (float)((double)(ck_rng(&st) >> 11) / 9007199254740992.0 - 0.5);
		x[i] = v;
	}
	c2_series s = {x, ctx, 0, NULL, 0};
	float *out = malloc(sizeof(float) * (size_t)m->c.num_quantiles * horizon);
	double best_w = 1e30, best_c = 1e30;
	for (int r = 0; r < 6; r++) {
		double w0 = cp_now(), c0 = cpu_now();
		if (chronos2_predict(m, 1, &s, horizon, NULL, out, &e) < 0) {
			fprintf(stderr, "bench_chronos2: %s\n", e.msg);
			return 1;
		}
		double w = cp_now() - w0, c = cpu_now() - c0;
		if (r > 0) {  /* the first run is the warm-up (page faults of the map) */
			best_w = w < best_w ? w : best_w;
			best_c = c < best_c ? c : best_c;
		}
	}
	printf("chronos2 dims=%s context=%d horizon=%d batch=1 threads=1 window_ms=%.1f cpu_ms=%.1f "
	       "(best of 5 after a warm-up)\n", dm.name, ctx, horizon, best_w * 1e3, best_c * 1e3);
	free(x), free(out);
	chronos2_free(m);
	return 0;
}
