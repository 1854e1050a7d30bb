/* jsonutil.c — see jsonutil.h. */
#include "jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cJSON *cp_json_path(const cJSON *j, const char *dotted)
{
	char key[128];
	const char *p = dotted;
	while (j && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		j = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
		p += n + (dot ? 1 : 0);
	}
	return j;
}

/* ------------------------------------------------------------- strict parse */

/* The column (1-based) of p in text. */
static long column(const char *text, const char *p)
{
	return (long)(p - text) + 1;
}

/* The number token at p: refused (*bad, e) when it is not finite (1e999:
 * strtod's HUGE_VAL). Whole numbers past 2^53 are left alone: a double
 * that large prints as 17 plain digits, and fields that must be exact
 * integers (seed, steps, length) have ranges of their own. Returns the
 * byte after the token; a token that is no JSON number is left to cJSON. */
static const char *check_number(const char *text, const char *p, cp_err *e, int *bad)
{
	const char *start = p;
	while (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))
		p++;
	char *end;
	double v = strtod(start, &end);
	if (end != p || isfinite(v))
		return p;
	char shown[CP_SHOWN_MAX], cut[48];
	int n = (int)(p - start);
	snprintf(cut, sizeof(cut), "%.*s", n < 41 ? n : 41, start);
	*bad = 1;
	cp_fail(e, CP_DATA, "number '%s' at column %ld does not fit a double", cp_shown(cut, shown),
	        column(text, start));
	return p;
}

/* The raw scan: control characters, \u0000, numbers. 0 or -1. */
static int scan_raw(const char *text, size_t len, cp_err *e)
{
	const char *p = text, *end = text + len;
	int bad = 0;
	while (p < end && !bad) {
		unsigned char c = (unsigned char)*p;
		if (c == '"') {
			for (p++; p < end && *p != '"'; p++) {
				c = (unsigned char)*p;
				if (c < 0x20)
					return cp_fail(e, CP_DATA, "raw control character 0x%02x in a string at column %ld",
					               c, column(text, p));
				if (c == '\\' && p + 1 < end) {
					p++;
					if (*p == 'u' && end - p >= 5 && !strncmp(p + 1, "0000", 4))
						return cp_fail(e, CP_DATA, "string holds \\u0000 (NUL) at column %ld",
						               column(text, p - 1));
				}
			}
			p++;
		} else if (c < 0x20 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return cp_fail(e, CP_DATA, "raw control character 0x%02x at column %ld", c, column(text, p));
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			p = check_number(text, p, e, &bad);
		} else {
			p++;
		}
	}
	return bad ? -1 : 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* Duplicate members anywhere below j; path is the dotted name of j ("" at
 * the top). 0 or -1. */
static int check_keys(const cJSON *j, char *path, size_t cap, cp_err *e)
{
	if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
		return 0;
	size_t n = 0, at = strlen(path);
	for (const cJSON *c = j->child; c; c = c->next)
		n++;
	if (cJSON_IsObject(j) && n > 1) {
		const cJSON **v = cp_malloc(n * sizeof(*v));
		size_t i = 0;
		for (const cJSON *c = j->child; c; c = c->next)
			v[i++] = c;
		qsort(v, n, sizeof(*v), cmp_key);
		for (i = 1; i < n; i++)
			if (!strcmp(v[i]->string, v[i - 1]->string)) {
				char k[CP_SHOWN_MAX], w[CP_SHOWN_MAX];
				if (at)
					cp_fail(e, CP_DATA, "duplicate key '%s' in '%s'", cp_shown(v[i]->string, k),
					        cp_shown(path, w));
				else
					cp_fail(e, CP_DATA, "duplicate key '%s'", cp_shown(v[i]->string, k));
				free(v);
				return -1;
			}
		free(v);
	}
	for (const cJSON *c = j->child; c; c = c->next) {
		if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
			continue;
		if (cJSON_IsObject(j))
			snprintf(path + at, cap - at, "%s%s", at ? "." : "", c->string);
		int rc = check_keys(c, path, cap, e);
		path[at] = '\0';
		if (rc < 0)
			return -1;
	}
	return 0;
}

static cJSON *parse_strict(const char *text, size_t len, cp_err *e)
{
	const char *bad = cp_utf8_bad(text);
	if (bad)
		return cp_fail(e, CP_DATA, "not UTF-8 at column %ld", column(text, bad)), NULL;
	if (scan_raw(text, len, e) < 0)
		return NULL;
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!j) {
		long col = end ? column(text, end) : 1;
		return cp_fail(e, CP_DATA, "invalid JSON near column %ld", col), NULL;
	}
	for (; end && end < text + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			cJSON_Delete(j);
			return cp_fail(e, CP_DATA, "more than one JSON value (column %ld)", column(text, end)), NULL;
		}
	char path[4096] = "";
	if (check_keys(j, path, sizeof(path), e) < 0) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

cJSON *cp_json_parse_strict(const char *text, size_t len, cp_err *e)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return cp_fail(e, CP_DATA, "NUL byte at column %ld", column(text, nul)), NULL;
	/* a NUL-terminated copy: cJSON, strtod and the UTF-8 check read to it */
	char *copy = cp_malloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	cJSON *j = parse_strict(copy, len, e);
	free(copy);
	return j;
}

/* ------------------------------------------------------------ field reader */

/* The member `key` of o, or NULL when absent (or null with JF_NULL_ABSENT). */
static const cJSON *member(const cJSON *o, const char *key, int flags)
{
	const cJSON *j = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	if (j && (flags & JF_NULL_ABSENT) && cJSON_IsNull(j))
		return NULL;
	return j;
}

static int missing(const char *key, int flags, const char *what, cp_err *e)
{
	if (flags & JF_REQUIRED)
		return cp_fail(e, CP_DATA, "%s: '%s' is missing", what, key);
	return 0;
}

int cp_json_number_of(const cJSON *it, double *v)
{
	if (cJSON_IsNumber(it)) {
		*v = it->valuedouble;
		return 0;
	}
	if (cJSON_IsRaw(it) && it->valuestring && it->valuestring[0]) {
		char *end;
		double x = strtod(it->valuestring, &end);
		if (*end || !isfinite(x))
			return -1;
		*v = x;
		return 0;
	}
	return -1;
}

int jf_int(const cJSON *o, const char *key, long lo, long hi, int flags, int *out,
           const char *what, cp_err *e)
{
	const cJSON *j = member(o, key, flags);
	if (!j)
		return missing(key, flags, what, e);
	double v;
	if (cp_json_number_of(j, &v) < 0 || v != floor(v) || v < (double)lo || v > (double)hi)
		return cp_fail(e, CP_DATA, "%s: '%s' must be an integer in [%ld, %ld]", what, key, lo, hi);
	*out = (int)v;
	return 0;
}

int jf_num(const cJSON *o, const char *key, double lo, double hi, int flags, double *out,
           const char *what, cp_err *e)
{
	const cJSON *j = member(o, key, flags);
	if (!j)
		return missing(key, flags, what, e);
	double v;
	int open = (flags & JF_LO_OPEN) != 0;
	if (cp_json_number_of(j, &v) < 0 || !isfinite(v) || (open ? !(v > lo) : !(v >= lo)) || !(v <= hi))
		return cp_fail(e, CP_DATA, "%s: '%s' must be a number in %c%g, %g]", what, key,
		               open ? '(' : '[', lo, hi);
	*out = v;
	return 0;
}

int jf_bool(const cJSON *o, const char *key, int flags, int *out, const char *what, cp_err *e)
{
	const cJSON *j = member(o, key, flags);
	if (!j)
		return missing(key, flags, what, e);
	if (!cJSON_IsBool(j))
		return cp_fail(e, CP_DATA, "%s: '%s' must be true or false", what, key);
	*out = cJSON_IsTrue(j);
	return 0;
}

int jf_str(const cJSON *o, const char *key, int flags, const char **out, const char *what,
           cp_err *e)
{
	const cJSON *j = member(o, key, flags);
	if (!j)
		return missing(key, flags, what, e);
	if (!cJSON_IsString(j))
		return cp_fail(e, CP_DATA, "%s: '%s' must be a string", what, key);
	*out = j->valuestring;
	return 0;
}

/* ------------------------------------------------------------ exact numbers */

cJSON *cp_json_exact(double v)
{
	if (!isfinite(v))
		return cJSON_CreateNull();
	char b[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(b, sizeof(b), "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	/* cJSON prints "%1.15g" when that reads back within an ulp: when
	 * it is exact, a plain number prints the same text */
	char c[40];
	snprintf(c, sizeof(c), "%1.15g", v);
	if (strcmp(b, c) == 0)
		return cJSON_CreateNumber(v);
	return cJSON_CreateRaw(b);
}

cJSON *cp_json_add_exact(cJSON *o, const char *key, double v)
{
	cJSON *it = cp_json_exact(v);
	cJSON_AddItemToObject(o, key, it);
	return it;
}

/* 1 when cJSON would print the number item n inexactly. */
static int inexact(const cJSON *n)
{
	char b[40];
	double v = n->valuedouble;
	if (!isfinite(v) || (v == (double)n->valueint && fabs(v) < 2147483647.0))
		return 0;
	snprintf(b, sizeof(b), "%1.15g", v);
	return strtod(b, NULL) != v;
}

static int any_inexact(const cJSON *j)
{
	for (; j; j = j->next)
		if ((cJSON_IsNumber(j) && inexact(j)) || any_inexact(j->child))
			return 1;
	return 0;
}

static void exactify(cJSON *j)
{
	for (cJSON *c = j ? j->child : NULL, *next; c; c = next) {
		next = c->next;
		if (cJSON_IsNumber(c) && inexact(c)) {
			cJSON *x = cp_json_exact(c->valuedouble);
			/* ReplaceItemViaPointer keeps no key: give the new item its own copy
			 * (freed by cJSON_Delete with the default allocator, as cJSON's own) */
			if (c->string)
				x->string = strdup(c->string);
			cJSON_ReplaceItemViaPointer(j, c, x);
		} else {
			exactify(c);
		}
	}
}

char *cp_json_print(const cJSON *j, int formatted)
{
	if (!j || !any_inexact(j))
		return formatted ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	if (cJSON_IsNumber(j)) {
		cJSON *x = cp_json_exact(j->valuedouble);
		char *s = cJSON_PrintUnformatted(x);
		cJSON_Delete(x);
		return s;
	}
	cJSON *copy = cJSON_Duplicate(j, 1);
	exactify(copy);
	char *s = formatted ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return s;
}
