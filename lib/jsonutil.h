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

#endif
