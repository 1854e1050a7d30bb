/* jsonutil.h — small helpers over cJSON shared by several stages. */
#ifndef CHRONOPT_JSONUTIL_H
#define CHRONOPT_JSONUTIL_H
#include <cJSON.h>

/* The node at a dotted path ("validation.candidate.rmse") below j: each
 * step is a member of an object (case-sensitive; a step longer than 127
 * bytes never matches).  Returns a pointer into j (owned by j, valid while
 * j lives), j itself for "", or NULL when j is NULL or any step is
 * missing or not below an object. */
const cJSON *cp_json_path(const cJSON *j, const char *dotted);

#endif
