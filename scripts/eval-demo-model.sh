#!/bin/bash
# Evaluate a Chronos checkpoint against the random walk with our own tools
# (the C forward pass): MASE of the median forecast relative to the random
# walk's, and CI95 coverage, on USD/CLP over the last N origins at each
# horizon.  Prints a Markdown table.
# Usage: scripts/eval-demo-model.sh [MODEL_DIR] [ORIGINS] [SAMPLES]
# (SAMPLES: Chronos-T5 only; a quantile model's intervals come from its levels)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/chronos-demo}
origins=${2:-500}
samples=${3:-20}
bin=${CHRONOPT_BIN:-build/bin}
data=testdata/usdclp_daily.csv
export OPENBLAS_NUM_THREADS=1 CHRONOPT_THREADS=${CHRONOPT_THREADS:-1}
# a quantile model (Chronos-Bolt, Chronos-2) draws no samples: no --num-samples
family=$("$bin/opt-forecast" --model "$model" --values 1,2,3,4,5,6,7,8 --steps 1 | jq -r .family)
sampling=(--num-samples "$samples")
case $family in chronos-bolt | chronos-2) sampling=() ;; esac
# CI95 is empty ("-") for a model whose levels do not reach 0.025 / 0.975
# (the Bolt models' 0.1 .. 0.9): its CI80 coverage is the column to read.
echo "| steps | model MASE | random walk MASE | ratio | model CI80 coverage | random walk CI80 coverage | model CI95 coverage | random walk CI95 coverage | model RMSE | random walk RMSE | model seconds |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for steps in 7 15 30 90; do
	m=$("$bin/opt-backtest" --series "$data" --model "$model" --steps "$steps" \
		--origins "$origins" "${sampling[@]}" --context-length 512 --seed 42 --batch 50)
	r=$("$bin/opt-backtest" --series "$data" --model random_walk --steps "$steps" \
		--origins "$origins" --num-samples "$samples" --context-length 512 --seed 42)
	jq -rn --argjson m "$m" --argjson r "$r" --arg s "$steps" \
		'def r3: if . == null then "-" else (. * 1000 | round / 1000) end;
		"| \($s) | \($m.metrics.mase|r3) | \($r.metrics.mase|r3) | \($m.metrics.mase/$r.metrics.mase|r3) | \($m.metrics.cov80|r3) | \($r.metrics.cov80|r3) | \($m.metrics.cov95|r3) | \($r.metrics.cov95|r3) | \($m.metrics.rmse*100|round/100) | \($r.metrics.rmse*100|round/100) | \($m.metrics.seconds*10|round/10) |"'
done
