/* test_fc_config.c — the one home of the forecaster settings (fc_config.c)
 * and the JSON field reader and exact numbers of jsonutil.c: the domain
 * at and just past each bound, the same domain from every door (option,
 * JSON, search space), and settings that go through JSON text and come
 * back bit for bit. */
#include "common.h"
#include "depconfig.h"
#include "forecast.h"
#include "jsonutil.h"
#include "prng.h"
#include "space.h"
#include "tap.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* fc_config through JSON text and back. */
static int round_trip(const fc_config *c, fc_config *back)
{
	cJSON *j = fc_config_json(c);
	char *text = cp_json_print(j, 0);
	cJSON_Delete(j);
	cJSON *p = cJSON_Parse(text);
	free(text);
	cp_err e = {0};
	int rc = fc_config_from_json(p, "rt", back, &e);
	cJSON_Delete(p);
	return rc;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

int main(void)
{
	cp_err e = {0};

	/* ---------------------------------------------------------- domain */
	static const struct { int key; double x; int ok; } dom[] = {
		{FC_CTX, 1, 1}, {FC_CTX, 100000, 1}, {FC_CTX, 0, 0}, {FC_CTX, 100001, 0}, {FC_CTX, 1.5, 0},
		{FC_SAMPLES, 1, 1}, {FC_SAMPLES, 100000, 1}, {FC_SAMPLES, 0, 0}, {FC_SAMPLES, 100001, 0},
		{FC_TEMP, 100, 1}, {FC_TEMP, 1e-300, 1}, {FC_TEMP, 0, 0}, {FC_TEMP, -1, 0},
		{FC_TEMP, 100.00000000000001, 0}, {FC_TEMP, INFINITY, 0}, {FC_TEMP, NAN, 0},
		{FC_TOPK, 0, 1}, {FC_TOPK, 100000, 1}, {FC_TOPK, -1, 0}, {FC_TOPK, 2.5, 0},
		{FC_TOPP, 1, 1}, {FC_TOPP, 1e-9, 1}, {FC_TOPP, 0, 0}, {FC_TOPP, 1.0000000000000002, 0},
	};
	int agree = 1;
	for (size_t i = 0; i < sizeof(dom) / sizeof(dom[0]); i++) {
		const char *why = fc_value_problem(dom[i].key, dom[i].x);
		if ((why == NULL) != dom[i].ok) {
			printf("# %s %.17g: %s\n", fc_key[dom[i].key], dom[i].x, why ? why : "accepted");
			agree = 0;
		}
	}
	CHECK(agree, "the domain: each bound accepted, the value just past it refused");
	CHECK(!strcmp(fc_value_problem(FC_TOPP, 0), "is not in (0, 1]") &&
	      !strcmp(fc_value_problem(FC_TEMP, 0), "is not in (0, 100]") &&
	      !strcmp(fc_value_problem(FC_TOPK, 0.5), "is not an integer"),
	      "the problem says the range in interval notation");

	/* every door agrees with fc_value_problem: option, JSON, search space */
	int doors = 1;
	for (size_t i = 0; i < sizeof(dom) / sizeof(dom[0]); i++) {
		if (!isfinite(dom[i].x))
			continue;
		char arg[40], js[128];
		snprintf(arg, sizeof(arg), "%.17g", dom[i].x);
		fc_config c = {10, 10, 1, 0, 1};
		int by_opt = fc_config_parse_option(dom[i].key, arg, fc_option[dom[i].key], &c, &e) == 0;
		snprintf(js, sizeof(js), "{\"%s\":%s}", fc_key[dom[i].key], arg);
		cJSON *j = cJSON_Parse(js);
		for (int k = FC_CTX; k <= FC_SAMPLES; k++)
			if (k != dom[i].key)
				cJSON_AddNumberToObject(j, fc_key[k], 10);
		int by_json = fc_config_from_json(j, "x", &c, &e) == 0;
		cJSON_Delete(j);
		sp_space sp;
		sp_default(&sp, "7d");
		sp.n[dom[i].key] = 1;
		sp.v[dom[i].key][0] = dom[i].x;
		int by_space = sp_check(&sp, "s", CP_DATA, &e) == 0;
		if (by_opt != dom[i].ok || by_json != dom[i].ok || by_space != dom[i].ok) {
			printf("# %s %s: option %d json %d space %d\n", fc_key[dom[i].key], arg, by_opt, by_json,
			       by_space);
			doors = 0;
		}
	}
	CHECK(doors, "the option parser, the JSON reader and the search space accept exactly the domain");

	fc_config c = {180, 100, 0.8, 0, 0};
	CHECK(fc_config_check(&c, "cfg", CP_DATA, &e) == -1 && e.code == CP_DATA &&
	      !strcmp(e.msg, "cfg: 'top_p' value 0 is not in (0, 1]"), "fc_config_check names the key and value");
	c.top_p = 1;
	CHECK(fc_config_check(&c, "cfg", CP_DATA, &e) == 0, "a config in the domain passes");
	CHECK(fc_config_parse_option(FC_TOPP, "0", "--top-p", &c, &e) == -1 && e.code == CP_USAGE &&
	      !strcmp(e.msg, "--top-p: '0' is not in (0, 1]") && c.top_p == 1,
	      "an option out of the domain is a usage error and leaves the config");
	CHECK(fc_config_parse_option(FC_TEMP, "1x", "--temperature", &c, &e) == -1 &&
	      !strcmp(e.msg, "--temperature: '1x' is not a number"), "junk is not a number");

	/* ---------------------------------------------------------- JSON reader */
	cJSON *j = cJSON_Parse("{\"i\":3,\"f\":2.5,\"b\":true,\"s\":\"x\",\"n\":null,\"neg\":-1}");
	int iv = 7, bv = 0;
	double dv = 9;
	const char *sv = NULL;
	CHECK(jf_int(j, "i", 0, 5, JF_REQUIRED, &iv, "w", &e) == 0 && iv == 3, "jf_int reads an integer in range");
	CHECK(jf_int(j, "absent", 0, 5, 0, &iv, "w", &e) == 0 && iv == 3, "absent and optional: the default stays");
	CHECK(jf_int(j, "absent", 0, 5, JF_REQUIRED, &iv, "w", &e) == -1 && !strcmp(e.msg, "w: 'absent' is missing"),
	      "absent and required: 'is missing'");
	CHECK(jf_int(j, "f", 0, 5, 0, &iv, "w", &e) == -1 && !strcmp(e.msg, "w: 'f' must be an integer in [0, 5]"),
	      "a fraction is not an integer");
	CHECK(jf_int(j, "n", 0, 5, 0, &iv, "w", &e) == -1, "null is a bad value by default");
	CHECK(jf_int(j, "n", 0, 5, JF_NULL_ABSENT | JF_REQUIRED, &iv, "w", &e) == -1 &&
	      !strcmp(e.msg, "w: 'n' is missing"), "with JF_NULL_ABSENT null is absent");
	CHECK(jf_num(j, "f", 0, 2.5, 0, &dv, "w", &e) == 0 && dv == 2.5, "jf_num: the upper bound is in");
	CHECK(jf_num(j, "neg", -1, 0, JF_LO_OPEN, &dv, "w", &e) == -1 &&
	      !strcmp(e.msg, "w: 'neg' must be a number in (-1, 0]"), "JF_LO_OPEN: the lower bound is out");
	CHECK(jf_num(j, "s", 0, 1, 0, &dv, "w", &e) == -1, "a string is not a number");
	CHECK(jf_bool(j, "b", 0, &bv, "w", &e) == 0 && bv == 1 &&
	      jf_bool(j, "i", 0, &bv, "w", &e) == -1 && !strcmp(e.msg, "w: 'i' must be true or false"),
	      "jf_bool reads true/false only");
	CHECK(jf_str(j, "s", 0, &sv, "w", &e) == 0 && !strcmp(sv, "x") &&
	      jf_str(j, "i", 0, &sv, "w", &e) == -1 && !strcmp(e.msg, "w: 'i' must be a string"),
	      "jf_str reads strings only");
	cJSON_Delete(j);

	/* ---------------------------------------------------------- exact numbers */
	/* 0.1 + 0.2: cJSON's own printer writes 0.3, which reads back as another double */
	double tricky = 0.1 + 0.2;
	cJSON *n = cJSON_CreateNumber(tricky);
	char *plain = cJSON_PrintUnformatted(n);
	char *exact = cp_json_print(n, 0);
	CHECK(strtod(plain, NULL) != tricky, "(the premise: cJSON alone rounds 0.1 + 0.2)");
	CHECK(strtod(exact, NULL) == tricky && !strcmp(exact, "0.30000000000000004"),
	      "cp_json_print writes the shortest exact text");
	free(plain), free(exact);
	cJSON_Delete(n);
	cJSON *x = cp_json_exact(0.8);
	CHECK(cJSON_IsNumber(x), "a number cJSON prints exactly stays a plain number (0.8)");
	cJSON_Delete(x);

	c = (fc_config){365, 200, 0.1 + 0.2, 7, 0.9 - 1e-16};
	fc_config back;
	CHECK(round_trip(&c, &back) == 0 && back.context_length == 365 && back.num_samples == 200 &&
	      back.top_k == 7 && same_bits(back.temperature, c.temperature) && same_bits(back.top_p, c.top_p),
	      "fc_config -> JSON text -> fc_config is bit for bit");
	/* many random doubles in the domain */
	prng g;
	prng_init(&g, 1, 2, 3);
	int all = 1;
	for (int i = 0; i < 20000 && all; i++) {
		uint64_t r = prng_u64(&g);
		double t = 100.0 * ((double)(r >> 11) + 1) / 9007199254740992.0;  /* (0, 100] */
		double p = ((double)(prng_u64(&g) >> 11) + 1) / 9007199254740992.0; /* (0, 1] */
		fc_config a = {1 + (int)(r % 100000), 1 + (int)(r % 7), t, (int)(r % 100001), p};
		if (round_trip(&a, &back) < 0 || !same_bits(a.temperature, back.temperature) ||
		    !same_bits(a.top_p, back.top_p) || a.context_length != back.context_length ||
		    a.num_samples != back.num_samples || a.top_k != back.top_k) {
			printf("# %.17g %.17g did not come back\n", t, p);
			all = 0;
		}
	}
	CHECK(all, "20000 random configs in the domain come back bit for bit");
	/* a nested tree: exact inside objects and arrays, keys kept */
	j = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(j, "a");
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(tricky));
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(j, "o"), "k", tricky);
	char *t = cp_json_print(j, 0);
	CHECK(!strcmp(t, "{\"a\":[0.30000000000000004],\"o\":{\"k\":0.30000000000000004}}"),
	      "cp_json_print keeps keys and reaches arrays and nested objects");
	free(t);
	cJSON_Delete(j);
	CHECK(fc_config_sampling_key(&fc_config_quantile_off, &iv) == 0, "the quantile-off values are off");
	c = fc_config_quantile_off;
	c.top_k = 3;
	CHECK(fc_config_quantile_check(&c, "chronos-bolt", "f.json", &e) == -1 && e.code == CP_DATA &&
	      !strcmp(e.msg, "f.json: 'top_k' is 3, but chronos-bolt is a quantile model: it draws no samples, "
	                     "so num_samples, temperature, top_k and top_p must be 1, 1, 0 and 1"),
	      "a sampling setting for a quantile model is refused naming it");
	return tap_done();
}
