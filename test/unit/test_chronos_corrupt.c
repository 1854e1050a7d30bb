/* test_chronos_corrupt.c — a checkpoint directory that is broken in any of
 * the ways a download or a hostile file can be is refused by chronos_load
 * with CP_DATA (CP_IO when unreadable) and a "<file>: ..." message. */
#include "tap.h"
#include "ckpt.h"
#include "chronos.h"

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
static void write_config(const char *from, const char *to);

/* Two replacements at once. */
static void write_config2(const char *f1, const char *t1, const char *f2, const char *t2)
{
	char *save = cfg_text;
	size_t save_len = cfg_len;
	const char *at = strstr(cfg_text, f1);
	size_t n = (size_t)(at - cfg_text), fl = strlen(f1), tl = strlen(t1);
	char *b = malloc(cfg_len + tl + 1);
	memcpy(b, cfg_text, n);
	memcpy(b + n, t1, tl);
	memcpy(b + n + tl, at + fl, cfg_len - n - fl);
	b[cfg_len - fl + tl] = 0;
	cfg_text = b;
	cfg_len = cfg_len - fl + tl;
	write_config(f2, t2);
	free(b);
	cfg_text = save;
	cfg_len = save_len;
}

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

/* Write tmp/model.safetensors from the source tensors, leaving out
 * `drop` and relabelling `retype` as dtype `dtype` (same element size). */
static void write_model(const char *drop, const char *retype, const char *dtype)
{
	ck_tensor *t = calloc((size_t)src.n, sizeof(ck_tensor));
	size_t dl = 0;
	int n = 0;
	for (int i = 0; i < src.n; i++)
		dl += src.t[i].end - src.t[i].begin;
	uint8_t *data = malloc(dl), *p = data;
	for (int i = 0; i < src.n; i++) {
		const st_tensor *s = &src.t[i];
		if (drop && strcmp(s->name, drop) == 0)
			continue;
		t[n].name = s->name;
		t[n].dtype = retype && strcmp(s->name, retype) == 0 ? dtype : "F32";
		t[n].ndim = s->ndim;
		memcpy(t[n].shape, s->shape, sizeof(int64_t) * (size_t)s->ndim);
		t[n].nbytes = s->end - s->begin;
		memcpy(p, src.data + s->begin, t[n].nbytes);
		p += t[n].nbytes;
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
	chronos_model *m = chronos_load(tmp, &e);
	char full[1200];
	snprintf(full, sizeof(full), want, tmp);
	int ok = !m && e.code == code && strcmp(e.msg, full) == 0;
	if (!ok)
		printf("#   got code %d '%s'\n#   want code %d '%s'\n", e.code, e.msg, code, full);
	chronos_free(m);
	CHECK(ok, name);
}

int main(void)
{
	const char *root = getenv("CHRONOPT_ROOT");
	snprintf(base, sizeof(base), "%s/testdata/chronos/relu-tied", root ? root : ".");
	snprintf(tmp, sizeof(tmp), "%s/chronopt-corrupt-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	char path[600];
	snprintf(path, sizeof(path), "%s/config.json", base);
	cfg_text = slurp(path, &cfg_len);
	snprintf(path, sizeof(path), "%s/model.safetensors", base);
	cp_err e = {0};
	CHECK(cfg_text && st_open(&src, path, &e) == 0, "source checkpoint readable");

	/* the untouched copy loads */
	write_config(NULL, NULL);
	write_model(NULL, NULL, NULL);
	chronos_model *m = chronos_load(tmp, &e);
	CHECK(m != NULL, "rewritten copy loads");
	chronos_free(m);

	expect(CP_DATA, "%s/model.safetensors: tensor 'decoder.final_layer_norm.weight' is missing",
	       (write_model("decoder.final_layer_norm.weight", NULL, NULL), "missing tensor"));
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.1.layer.1.DenseReluDense.wo.weight' "
	       "has dtype 'I32', expected F32, F16 or BF16",
	       (write_model(NULL, "encoder.block.1.layer.1.DenseReluDense.wo.weight", "I32"), "wrong dtype"));
	write_model(NULL, NULL, NULL);
	/* truncated file: the last tensor runs past the end */
	snprintf(path, sizeof(path), "%s/model.safetensors", tmp);
	size_t full_len;
	char *img = slurp(path, &full_len);
	ck_write(path, img, full_len - 100);
	expect(CP_DATA, "%s/model.safetensors: tensor 'shared.weight' ends at byte 1183744, past the end of "
	       "the data (1183644 bytes)", "truncated file");
	ck_write(path, img, 6);
	expect(CP_DATA, "%s/model.safetensors: file is too short (6 bytes) to be safetensors", "file cut in the length");
	ck_write(path, img, 3000);
	expect(CP_DATA, "%s/model.safetensors: header length 5488 runs past the end of the file (3000 bytes)",
	       "file cut in the header");
	ck_write(path, img, full_len);
	free(img);

	/* config.json that disagrees with the tensors or is absurd */
	write_config("\"d_ff\": 128", "\"d_ff\": 96");
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.0.layer.1.DenseReluDense.wo.weight' has "
	       "shape [64, 128], expected [64, 96]", "shape mismatch with config.json");
	write_config("\"num_layers\": 2", "\"num_layers\": 1");
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.1.layer.0.SelfAttention.k.weight' does "
	       "not fit config.json (1 encoder layers)", "file deeper than config");
	write_config("\"d_model\": 64", "\"d_model\": 1000000000");
	expect(CP_DATA, "%s/config.json: 'd_model' must be an integer in [1, 16384]", "absurd d_model");
	write_config2("\"num_heads\": 4", "\"num_heads\": 256", "\"d_kv\": 16", "\"d_kv\": 4096");
	expect(CP_DATA, "%s/config.json: num_heads * d_kv = 1048576 is too large", "absurd heads x d_kv");
	write_config("\"context_length\": 64", "\"context_length\": 1e12");
	expect(CP_DATA, "%s/config.json: chronos_config: 'context_length' must be an integer in [1, 65536]",
	       "absurd context_length");
	write_config("\"n_tokens\": 512", "\"n_tokens\": 4096");
	expect(CP_DATA, "%s/config.json: chronos_config: 'n_tokens' must be an integer in [5, 512]",
	       "n_tokens beyond the vocabulary");
	write_config("\"chronos_config\"", "\"not_chronos\"");
	expect(CP_DATA, "%s/config.json: no 'chronos_config' block: not a Chronos checkpoint", "not a Chronos config");
	write_config("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"gated-gelu-x\"");
	expect(CP_DATA, "%s/config.json: 'feed_forward_proj' 'gated-gelu-x' is not 'ACT' or 'gated-ACT'", "bad feed_forward_proj");
	write_config("\"dense_act_fn\": \"relu\"", "\"dense_act_fn\": \"tanh\"");
	expect(CP_DATA, "%s/config.json: activation 'tanh' is not supported (relu, gelu_new, gelu, silu)",
	       "unsupported activation");
	write_config("\"use_eos_token\": true", "\"use_eos_token\": 1");
	expect(CP_DATA, "%s/config.json: chronos_config: 'use_eos_token' must be true or false", "non-boolean flag");
	write_config("{", "[");
	expect(CP_DATA, "%s/config.json: not a valid JSON object", "config not JSON");
	/* explicit is_gated_act overrides feed_forward_proj: then wi_0 is needed */
	write_config("\"is_gated_act\": false", "\"is_gated_act\": true");
	expect(CP_DATA, "%s/model.safetensors: tensor 'encoder.block.0.layer.1.DenseReluDense.wi_0.weight' is missing",
	       "is_gated_act overrides feed_forward_proj");
	snprintf(path, sizeof(path), "%s/config.json", tmp);
	unlink(path);
	cp_err e2 = {0};
	CHECK(chronos_load(tmp, &e2) == NULL && e2.code == CP_IO && strstr(e2.msg, "cannot open '"),
	      "missing config.json is CP_IO");
	snprintf(path, sizeof(path), "%s/model.safetensors", tmp);
	unlink(path);
	rmdir(tmp);
	st_close(&src);
	free(cfg_text);
	return tap_done();
}
