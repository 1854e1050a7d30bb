/* series.h — strict time-series loader (libcsv). */
#ifndef CHRONOPT_SERIES_H
#define CHRONOPT_SERIES_H
#include "common.h"

/* What the loader does with a missing value: an empty value, or NA, N/A,
 * NaN or null in any case (not "inf", which stays an error). */
typedef enum {
	SERIES_MISSING_ERROR,  /* refuse the file, naming the line (the default) */
	SERIES_MISSING_NAN,    /* keep the row with y = NaN */
	SERIES_MISSING_DROP    /* leave the row out */
} series_missing;

typedef struct {
	char *path;     /* as given to series_load */
	char *id;       /* unique_id of the long format, or "" for date,value */
	int n;          /* number of observations (rows kept) */
	int32_t *day;   /* n dates as days since 1970-01-01, strictly increasing */
	double *y;      /* n values: finite, or NaN for a missing one (SERIES_MISSING_NAN) */
	series_missing missing; /* how missing values were loaded */
	int n_missing;  /* missing values met: kept as NaN, or rows dropped */
} series;

/* "error", "nan", "drop" -> the mode; returns 0, or -1 for anything else. */
int series_missing_parse(const char *s, series_missing *m);
/* The mode's name ("error", "nan", "drop"). */
const char *series_missing_name(series_missing m);

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
 * impossible dates, duplicate or decreasing dates, missing values (empty, NA,
 * N/A, NaN, null: see series_load_missing), non-numeric/inf/
 * hexadecimal/overflowing values, whitespace around a date or value (never
 * trimmed), empty lines (also at the end), a NUL byte, a CR not followed by
 * LF, a line that is not UTF-8 or holds a control character (tab included:
 * ids and names go into envelopes and messages), empty file, header only,
 * quoting errors (a quoted field cannot span lines), lines over 4096 bytes,
 * fewer than `min_obs` rows of the chosen id.
 * testdata/bad-csv/README.md lists one file per rule with its message.
 * Unreadable file: CP_IO. On success fills *s (caller frees with
 * series_free) and returns 0; on failure *s is left empty and -1 returned.
 */
int series_load(series *s, const char *path, const char *id, int min_obs, cp_err *e);
/* series_load with a choice for missing values: SERIES_MISSING_ERROR is
 * series_load (the missing value is refused: "<path>:<line>: missing value
 * 'NA' (--missing nan keeps it, --missing drop leaves the row out)", or
 * "empty value (...)" likewise); SERIES_MISSING_NAN keeps the row with NaN;
 * SERIES_MISSING_DROP leaves it out (its date is still checked). min_obs
 * counts the rows kept; a file whose kept values are all missing is
 * CP_DATA "<path>: every value is missing". */
int series_load_missing(series *s, const char *path, const char *id, int min_obs, series_missing mode,
                        cp_err *e);

/* A series id that is safe as a directory name and in a mail: 1-64 bytes
 * of letters, digits, '.', '_' and '-', not starting with '.' or '-'.
 * Returns 1 when plain. */
int series_id_ok(const char *id);

/* The distinct ids of the long-format CSV at path, in order of first
 * appearance, into *ids (n strings; caller frees each and the array).
 * The header and every line's quoting and field count are checked as
 * series_load does; dates and values are checked when an id is loaded.
 * A two-column file has no ids: CP_DATA "<path>:1: not a long-format file
 * (unique_id,ds,y): it has no series ids".  An id that is not plain
 * (series_id_ok): CP_DATA "<path>:<line>: series id '<id>' is not a plain
 * name ...".  Returns 0, or -1 with *ids NULL. */
int series_ids(const char *path, char ***ids, int *n, cp_err *e);

/* Free what series_load filled and empty *s; s may be NULL. */
void series_free(series *s);

#endif
