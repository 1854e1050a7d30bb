#!/bin/bash
# Evaluate a Chronos checkpoint against the random walk with our own tools
# (the C forward pass): MASE of the median forecast relative to the random
# walk's, and CI95 coverage, on USD/CLP over the last N origins at each
# horizon.  Prints a Markdown table.
# Usage: scripts/eval-demo-model.sh [MODEL_DIR] [ORIGINS] [SAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/chronos-demo}
origins=${2:-500}
samples=${3:-20}
bin=${CHRONOPT_BIN:-build/bin}
data=testdata/usdclp_daily.csv
export OPENBLAS_NUM_THREADS=1 CHRONOPT_THREADS=${CHRONOPT_THREADS:-1}
echo "| steps | model MASE | random walk MASE | ratio | model CI95 coverage | random walk CI95 coverage | model RMSE | random walk RMSE | model seconds |"
echo "|---|---|---|---|---|---|---|---|---|"
for steps in 7 15 30 90; do
	m=$("$bin/opt-backtest" --series "$data" --model "$model" --steps "$steps" \
		--origins "$origins" --num-samples "$samples" --context-length 512 --seed 42 --batch 50)
	r=$("$bin/opt-backtest" --series "$data" --model random_walk --steps "$steps" \
		--origins "$origins" --num-samples "$samples" --context-length 512 --seed 42)
	jq -rn --argjson m "$m" --argjson r "$r" --arg s "$steps" \
		'"| \($s) | \($m.metrics.mase*1000|round/1000) | \($r.metrics.mase*1000|round/1000) | \(($m.metrics.mase/$r.metrics.mase)*1000|round/1000) | \($m.metrics.cov95*1000|round/1000) | \($r.metrics.cov95*1000|round/1000) | \($m.metrics.rmse*100|round/100) | \($r.metrics.rmse*100|round/100) | \($m.metrics.seconds*10|round/10) |"'
done
