#!/bin/bash
# make bench: the PyTorch Chronos-2 reference timed on random weights, 1 thread,
# so the C forward pass (test/bench/bench_chronos2.c) can be compared with it in
# the same run:
#   torch chronos2 dims=chronos-2 context=512 horizon=64 batch=1 window_ms=...
# Dims: the published amazon/chronos-2 shape (d 768, 12 layers, 12 x 64 heads,
# d_ff 3072, patch 16, 21 quantiles); CHRONOS2_BENCH_DIMS=small for d 512 / 6 layers.
root=${CHRONOPT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "chronos2_torch: skipped: /usr/bin/python3 has no torch (apt install python3-torch)"
	exit 0
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec /usr/bin/python3 "$root/scripts/chronos2_reference.py" --bench \
	--dims "${CHRONOS2_BENCH_DIMS:-chronos-2}" --context 512 --horizon 64 --reps 5
