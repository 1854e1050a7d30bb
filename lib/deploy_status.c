/* deploy_status.c — status of the deployed configs, as JSON and as text;
 * see deploy.h. */
#include "deploy_internal.h"
#include "challenger.h"
#include "depconfig.h"
#include "envelope.h"
#include "gitrepo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------- */

/* The live challenger of h: null, or {"state": "live" | "corrupt", "config",
 * "error" | ("started_at", "start_date", "origins_required", "level",
 * "settings", "validation_rmse")}. */
static cJSON *challenger_status(const char *dir, const char *h)
{
	int missing = 0;
	ch_info ci;
	cp_err e = {0};
	char path[PATH_MAX_];
	if (ch_path(path, sizeof(path), dir, h, &e) < 0)
		return cJSON_CreateNull();
	cJSON *j = ch_load(dir, h, &missing, &ci, &e);
	if (!j && missing)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", j ? "live" : "corrupt");
	cJSON_AddStringToObject(o, "config", path);
	if (!j) {
		cJSON_AddStringToObject(o, "error", e.msg);
		return o;
	}
	cJSON_AddStringToObject(o, "started_at", ci.started_at);
	cJSON_AddStringToObject(o, "start_date", ci.start_date);
	cJSON_AddNumberToObject(o, "origins_required", ci.origins);
	env_add_number(o, "level", ci.level);
	cJSON_AddItemToObject(o, "settings", fc_config_json(&ci.cfg));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "validation_rmse");
	env_add_number(o, "validation_rmse", cJSON_IsNumber(v) ? v->valuedouble : NAN);
	cJSON_Delete(j);
	return o;
}

cJSON *dp_status(const dp_options *o, const char *const *names, int n, cp_err *e)
{
	/* a directory that is not there is "nothing deployed yet"; a file in
	 * its place is an error, not a corrupt config per horizon */
	struct stat st;
	if (stat(o->config_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		cp_fail(e, CP_IO, "'%s' is not a directory", o->config_dir);
		return NULL;
	}
	cJSON *a = cJSON_CreateArray();
	int missing_repo = 0;
	gr_repo *g = gr_open(o->config_dir, 0, &missing_repo, e);
	if (!g && !missing_repo) {
		cJSON_Delete(a);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		const char *h = names[i];
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "horizon", h);
		char path[PATH_MAX_];
		if (dc_path(path, sizeof(path), o->config_dir, h, e) < 0) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			gr_close(g);
			return NULL;
		}
		cJSON_AddStringToObject(s, "config", path);
		size_t len;
		int missing;
		cp_err re = {0};
		char *text = dc_read_file(path, &len, &missing, &re);
		cJSON *cfg = NULL;
		if (text)
			cfg = dc_parse(text, path, h, &re);
		free(text);
		if (missing) {
			cJSON_AddStringToObject(s, "state", "not deployed");
		} else if (!cfg) {
			cJSON_AddStringToObject(s, "state", "corrupt");
			cJSON_AddStringToObject(s, "error", re.msg);
		} else {
			cJSON_AddStringToObject(s, "state", "deployed");
		}
		const cJSON *v;
		v = cJSON_GetObjectItemCaseSensitive(cfg, "deployed_at");
		if (cJSON_IsString(v))
			cJSON_AddStringToObject(s, "deployed_at", v->valuestring);
		else
			cJSON_AddNullToObject(s, "deployed_at");
		v = cJSON_GetObjectItemCaseSensitive(cfg, "reasons");
		cJSON_AddItemToObject(s, "reasons", cJSON_IsArray(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateArray());
		if (cfg) {
			cJSON *settings = cJSON_AddObjectToObject(s, "settings");
			for (int k = 0; k < FC_NKEYS; k++) {
				v = cJSON_GetObjectItemCaseSensitive(cfg, fc_key[k]);
				if (cJSON_IsNumber(v))
					cJSON_AddNumberToObject(settings, fc_key[k], v->valuedouble);
			}
			cJSON_AddItemToObject(s, "metrics", dp_metrics_of(cfg));
			v = cJSON_GetObjectItemCaseSensitive(cfg, "previous");
			if (cJSON_IsString(v))
				cJSON_AddStringToObject(s, "previous", v->valuestring);
		}
		bk_entry *bk = NULL;
		int nbk = 0;
		cp_err be = {0};
		if (dp_backup_list(o->config_dir, h, &bk, &nbk, &be) == 0) {
			cJSON_AddNumberToObject(s, "backups", nbk);
			if (nbk)
				cJSON_AddStringToObject(s, "latest_backup", bk[nbk - 1].name);
		}
		free(bk);
		if (g) {
			char rev[41] = "", subject[256] = "";
			int64_t when = 0;
			char rel[64];
			snprintf(rel, sizeof(rel), "%s.json", h);
			cp_err ge = {0};
			int f = gr_last_change(g, rel, rev, subject, sizeof(subject), &when, &ge);
			if (f == 1) {
				cJSON_AddStringToObject(s, "revision", rev);
				cJSON_AddStringToObject(s, "last_change", subject);
				char stamp[32];
				time_t t = (time_t)when;
				struct tm tm;
				gmtime_r(&t, &tm);
				strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
				cJSON_AddStringToObject(s, "last_change_at", stamp);
			} else {
				cJSON_AddNullToObject(s, "revision");
			}
		} else {
			cJSON_AddNullToObject(s, "revision");
		}
		cJSON_Delete(cfg);
		cJSON_AddItemToObject(s, "challenger", challenger_status(o->config_dir, h));
		cJSON_AddItemToArray(a, s);
	}
	gr_close(g);
	return a;
}

static void text_clean(char *dst, size_t len, const char *src)
{
	size_t j = 0;
	for (; src && *src && j + 1 < len; src++) {
		unsigned char ch = (unsigned char)*src;
		dst[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[j] = '\0';
}

char *dp_status_text(const cJSON *status)
{
	size_t cap = 4096, len = 0;
	char *out = cp_malloc(cap);
	out[0] = '\0';
	const cJSON *s;
	cJSON_ArrayForEach(s, status) {
		char line[2048], a[512], b[512];
		const char *state = env_string(s, NULL, "state");
		int n = 0;
		text_clean(a, sizeof(a), env_string(s, NULL, "horizon"));
		text_clean(b, sizeof(b), state);
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: %s\n", a, b);
		text_clean(a, sizeof(a), env_string(s, NULL, "config"));
		n += snprintf(line + n, sizeof(line) - (size_t)n, "  config        %s\n", a);
		if (state && strcmp(state, "corrupt") == 0) {
			text_clean(a, sizeof(a), env_string(s, NULL, "error"));
			n += snprintf(line + n, sizeof(line) - (size_t)n, "  error         %s\n", a);
		}
		const char *at = env_string(s, NULL, "deployed_at");
		if (at) {
			text_clean(a, sizeof(a), at);
			n += snprintf(line + n, sizeof(line) - (size_t)n, "  deployed at   %s\n", a);
		}
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(s, "metrics");
		if (m) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "validation_rmse");
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "validation_mape");
			char rs[32] = "n/a", ps[32] = "n/a";
			if (cJSON_IsNumber(r))
				snprintf(rs, sizeof(rs), "%.6g", r->valuedouble);
			if (cJSON_IsNumber(p))
				snprintf(ps, sizeof(ps), "%.6g %%", p->valuedouble);
			n += snprintf(line + n, sizeof(line) - (size_t)n, "  metrics       validation rmse %s, mape %s\n", rs, ps);
		}
		const cJSON *nb = cJSON_GetObjectItemCaseSensitive(s, "backups");
		n += snprintf(line + n, sizeof(line) - (size_t)n, "  backups       %d\n",
		              cJSON_IsNumber(nb) ? (int)nb->valuedouble : 0);
		const char *rev = env_string(s, NULL, "revision");
		text_clean(a, sizeof(a), rev ? rev : "none");
		text_clean(b, sizeof(b), env_string(s, NULL, "last_change"));
		n += snprintf(line + n, sizeof(line) - (size_t)n, "  git revision  %.12s%s%s\n", a,
		              b[0] ? "  " : "", b);
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(s, "challenger");
		if (cJSON_IsObject(ch) && n < (int)sizeof(line)) {
			const char *cs = env_string(ch, NULL, "state");
			text_clean(a, sizeof(a), env_string(ch, NULL, "config"));
			if (cs && !strcmp(cs, "live")) {
				const cJSON *st = cJSON_GetObjectItemCaseSensitive(ch, "settings");
				const cJSON *cl = cJSON_GetObjectItemCaseSensitive(st, "context_length");
				const cJSON *ns = cJSON_GetObjectItemCaseSensitive(st, "num_samples");
				const cJSON *no = cJSON_GetObjectItemCaseSensitive(ch, "origins_required");
				text_clean(b, sizeof(b), env_string(ch, NULL, "start_date"));
				n += snprintf(line + n, sizeof(line) - (size_t)n,
				              "  challenger    %s: context %d, samples %d, since %s, decides after %d origins\n", a,
				              cJSON_IsNumber(cl) ? cl->valueint : 0, cJSON_IsNumber(ns) ? ns->valueint : 0, b,
				              cJSON_IsNumber(no) ? no->valueint : 0);
			} else {
				text_clean(b, sizeof(b), env_string(ch, NULL, "error"));
				n += snprintf(line + n, sizeof(line) - (size_t)n, "  challenger    CORRUPT %s: %s\n", a, b);
			}
		}
		if (n >= (int)sizeof(line))
			n = (int)sizeof(line) - 1;
		size_t need = len + (size_t)n + 512;
		const cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "reasons")) need += 1024;
		if (need > cap) {
			cap = need * 2;
			out = cp_realloc(out, cap);
		}
		memcpy(out + len, line, (size_t)n);
		len += (size_t)n;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "reasons")) {
			text_clean(a, sizeof(a), cJSON_IsString(r) ? r->valuestring : "?");
			len += (size_t)snprintf(out + len, cap - len, "  why           %s\n", a);
		}
		out[len] = '\0';
	}
	return out;
}
