/* series.h — strict time-series loader (libcsv). */
#ifndef CHRONOPT_SERIES_H
#define CHRONOPT_SERIES_H
#include "common.h"

typedef struct {
	char *path;     /* as given to series_load */
	char *id;       /* unique_id of the long format, or "" for date,value */
	int n;          /* number of observations */
	int32_t *day;   /* n dates as days since 1970-01-01, strictly increasing */
	double *y;      /* n finite values */
} series;

/*
 * Load `path`. Accepted layouts (header required, decided by the header):
 *   unique_id,ds,y   long format; `id` picks the series (NULL: the file must
 *                    hold exactly one id, else CP_DATA "several ids ('A',
 *                    'B'), pick one"); rows of other ids may be interleaved
 *   <date>,<value>   any two-column header, e.g. date,value (s->id is "")
 * Accepted on purpose: UTF-8 BOM, CRLF line ends, a final line without "\n",
 * quoted fields.
 * Rejected (CP_DATA, message "<path>:<line>: <problem>", one line, the first
 * problem only): missing/unknown header, wrong field count, non-ISO or
 * impossible dates, duplicate or decreasing dates, empty/non-numeric/NaN/inf/
 * hexadecimal/overflowing values, whitespace around a date or value (never
 * trimmed), empty lines (also at the end), a NUL byte, a CR not followed by
 * LF, empty file, header only, quoting errors (a quoted field cannot span
 * lines), lines over 4096 bytes, fewer than `min_obs` rows of the chosen id.
 * testdata/bad-csv/README.md lists one file per rule with its message.
 * Unreadable file: CP_IO. On success fills *s (caller frees with
 * series_free) and returns 0; on failure *s is left empty and -1 returned.
 */
int series_load(series *s, const char *path, const char *id, int min_obs, cp_err *e);
/* Free what series_load filled and empty *s; s may be NULL. */
void series_free(series *s);

#endif
