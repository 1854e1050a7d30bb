#!/bin/bash
# drift-false-alarms.sh — how often does the drift check fire on calm data?
#
# Slides the as-of date over the series (every STEP-th observation, from the
# first date with a full baseline + recent window) and runs
#   opt-trigger --series CSV --horizon 7d --as-of DATE
# once per date, reading the drift section (severity, and the standard
# deviations of the two windows of daily log-returns).
#
# Calm stretch: an as-of date whose baseline window AND recent window both
# have a realized volatility (sample sd of the daily log-returns) below the
# median recent-window volatility over all evaluated as-of dates.  Nothing
# dramatic happened in the 120 observations before such a date, so a drift
# alarm there is counted as a false alarm.
#
# Prints the number of calm dates and the share flagged at each severity.
# Usage: scripts/drift-false-alarms.sh [CSV] [STEP] [TOOL]
#   defaults: testdata/usdclp_daily.csv, 5, build/bin/opt-trigger
# Extra opt-trigger options (windows, cut-offs) can be passed in $TRIGGER_OPTS.
set -euo pipefail
csv=${1:-testdata/usdclp_daily.csv}
step=${2:-5}
tool=${3:-build/bin/opt-trigger}
[ -x "$tool" ] || { echo "drift-false-alarms: '$tool' not built (run make)" >&2; exit 2; }
command -v jq >/dev/null || { echo "drift-false-alarms: jq is needed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/cfg"

# dates of the series (column 2 of unique_id,ds,y or column 1 of date,value)
header=$(head -1 "$csv")
col=1
case "$header" in unique_id,*) col=2 ;; esac
tail -n +2 "$csv" | cut -d, -f"$col" | tr -d '\r' >"$tmp/dates"
mapfile -t dates <"$tmp/dates"
n=${#dates[@]}
first=121   # 90 + 30 log-returns need 121 observations (defaults)

i=$first
while [ "$i" -le "$n" ]; do
	d=${dates[$((i - 1))]}
	# shellcheck disable=SC2086
	"$tool" --series "$csv" --horizon 7d --as-of "$d" --config-dir "$tmp/cfg" \
		--history /dev/null ${TRIGGER_OPTS:-} |
		jq -r '.trigger.checks.drift | [.recent_end, .severity, .baseline_sd, .recent_sd] | @tsv'
	i=$((i + step))
done >"$tmp/all.tsv"

awk -F'\t' '
	function rank(s) { return s == "HIGH" ? 3 : s == "MEDIUM" ? 2 : s == "LOW" ? 1 : 0 }
	{ date[NR] = $1; sev[NR] = rank($2); bsd[NR] = $3; rsd[NR] = $4; v[NR] = $4 }
	END {
		n = NR
		# median of the recent-window volatilities
		for (i = 1; i <= n; i++) s[i] = v[i]
		for (i = 2; i <= n; i++) { x = s[i]; j = i - 1; while (j > 0 && s[j] > x) { s[j + 1] = s[j]; j-- } s[j + 1] = x }
		med = (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
		for (i = 1; i <= n; i++) {
			all[sev[i]]++
			if (bsd[i] < med && rsd[i] < med) { calm++; c[sev[i]]++ }
		}
		printf "as-of dates evaluated: %d (every %s-th observation, %s to %s)\n", n, step, date[1], date[n]
		printf "median recent-window volatility (sd of daily log-returns): %.5f\n", med
		printf "calm dates (both windows below the median): %d\n", calm
		printf "calm dates flagged LOW or above:    %d (%.1f%%)\n", c[1] + c[2] + c[3], 100 * (c[1] + c[2] + c[3]) / calm
		printf "calm dates flagged MEDIUM or above: %d (%.1f%%)  <- false-alarm rate of the drift trigger\n", c[2] + c[3], 100 * (c[2] + c[3]) / calm
		printf "calm dates flagged HIGH:            %d (%.1f%%)\n", c[3], 100 * c[3] / calm
		printf "all dates flagged MEDIUM or above:  %d (%.1f%%)\n", all[2] + all[3], 100 * (all[2] + all[3]) / n
	}' step="$step" "$tmp/all.tsv"
