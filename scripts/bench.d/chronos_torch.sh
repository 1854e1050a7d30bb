#!/bin/bash
# make bench: the PyTorch Chronos-T5 reference timed on random weights, 1 thread,
# so the C forward pass can be compared with it in the same run.
#   torch small encoder_ms=... decode20_ms=...
# Dims: chronos-t5-small (d 512, 6+6 layers, 8 heads, d_ff 2048, vocab 4096);
# encoder at context 512; decode 20 samples x 64 steps with a KV cache, top_k 50.
# CHRONOS_TORCH_DIMS=tiny,mini,small and CHRONOS_TORCH_SAMPLES=20,200 widen it.
root=${CHRONOPT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "chronos_torch: skipped: /usr/bin/python3 has no torch (apt install python3-torch)"
	exit 0
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
exec /usr/bin/python3 "$root/scripts/chronos_reference.py" --bench \
	--dims "${CHRONOS_TORCH_DIMS:-small}" --samples "${CHRONOS_TORCH_SAMPLES:-20}" --steps 64
