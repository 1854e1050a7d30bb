/* jsonutil.h — small helpers over cJSON shared by several stages. */
#ifndef CHRONOPT_JSONUTIL_H
#define CHRONOPT_JSONUTIL_H
#include "common.h"

#include <cJSON.h>
#include <stddef.h>

/* The node at a dotted path ("validation.candidate.rmse") below j: each
 * step is a member of an object (case-sensitive; a step longer than 127
 * bytes never matches).  Returns a pointer into j (owned by j, valid while
 * j lives), j itself for "", or NULL when j is NULL or any step is
 * missing or not below an object. */
const cJSON *cp_json_path(const cJSON *j, const char *dotted);

/* Parse the len bytes at text (NUL-terminated or not) as one JSON value,
 * more strictly than cJSON does: RFC 8259 syntax, and besides
 *   - the text is UTF-8 and holds no NUL byte,
 *   - no raw control character (below 0x20) stands anywhere, except the
 *     blanks space, tab, CR and LF between tokens,
 *   - no string holds the escape \u0000 (it would end the C string),
 *   - every number is finite (1e999 does not fit a double),
 *   - no object has two members of the same name.
 * Blank text after the value is allowed; anything else after it is not.
 * Returns the value (caller owns, cJSON_Delete) or NULL with CP_DATA and a
 * message that names the problem and its column or key, with at most a
 * short sanitized excerpt of the input ("duplicate key 'steps' in
 * 'horizon'", "raw control character 0x01 at column 9", ...); the caller
 * prefixes where the text came from. */
cJSON *cp_json_parse_strict(const char *text, size_t len, cp_err *e);

/* ------------------------------------------------------------ field reader
 * One way to read a member of a JSON object: its type, its range, its
 * default and its message.  Each reader returns 0 when the member was read
 * into *out or is absent (then *out keeps the caller's default), and -1
 * with e = CP_DATA "<what>: '<key>' <problem>" otherwise, where <problem>
 * is "is missing", "must be an integer in [lo, hi]", "must be a number in
 * (lo, hi]", "must be true or false" or "must be a string".  `what` names
 * the source (a path, "<path>: chronos_config", "candidate for '7d'"). */
enum {
	JF_REQUIRED = 1,    /* absent is an error */
	JF_NULL_ABSENT = 2, /* null counts as absent (Hugging Face writes unset keys as null) */
	JF_LO_OPEN = 4,     /* jf_num: lo itself is out of range, (lo, hi] */
};

/* An integer (a number with no fraction) in lo..hi. */
int jf_int(const cJSON *o, const char *key, long lo, long hi, int flags, int *out,
           const char *what, cp_err *e);
/* A finite number in [lo, hi] ((lo, hi] with JF_LO_OPEN).  Reads a Raw
 * item too when its text is a number (cp_json_exact writes those). */
int jf_num(const cJSON *o, const char *key, double lo, double hi, int flags, double *out,
           const char *what, cp_err *e);
/* true or false. */
int jf_bool(const cJSON *o, const char *key, int flags, int *out, const char *what, cp_err *e);
/* A string; *out borrows from o. */
int jf_str(const cJSON *o, const char *key, int flags, const char **out, const char *what,
           cp_err *e);

/* The number held by a Number item, or by a Raw item whose whole text is
 * a finite number (strtod); 0 and *v set, else -1. */
int cp_json_number_of(const cJSON *it, double *v);

/* A new item for v that prints so that strtod reads back exactly v: a
 * plain number when cJSON's own printing is exact (so 0.8 stays "0.8"),
 * else a Raw item with the shortest of %.15g, %.16g, %.17g that is exact
 * (cJSON keeps 15 digits whenever they compare within an ulp).  Non-finite
 * v: null.  Caller owns it.  Read it back with jf_num / cp_json_number_of. */
cJSON *cp_json_exact(double v);
/* Add cp_json_exact(v) to o as `key`; returns the item (owned by o). */
cJSON *cp_json_add_exact(cJSON *o, const char *key, double v);

/* j as text (formatted with newlines and tabs, or on one line), every
 * number printed so that strtod reads back the same double: numbers that
 * cJSON would round (it keeps 15 digits when they compare within an ulp)
 * are printed as cp_json_exact does, on a copy (j is not changed).  NULL
 * when cJSON cannot print; the caller frees the text. */
char *cp_json_print(const cJSON *j, int formatted);

#endif
