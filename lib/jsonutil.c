/* jsonutil.c — see jsonutil.h. */
#include "jsonutil.h"

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
