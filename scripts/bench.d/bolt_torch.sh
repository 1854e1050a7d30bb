#!/bin/bash
# make bench: the PyTorch Chronos-Bolt reference (scripts/bolt_reference.py)
# timed on random weights of the chronos-bolt-small shape, 1 thread, context
# 512, one block of 64 steps, so the C forward pass can be compared with it in
# the same run:
#   torch bolt-small context=512 batch=1 window_ms=...
root=${CHRONOPT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	echo "bolt_torch: skipped: /usr/bin/python3 has no torch (apt install python3-torch)"
	exit 0
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
/usr/bin/python3 "$root/scripts/bolt_reference.py" --bench --context 512 --batch 1 --reps 5 &&
	exec /usr/bin/python3 "$root/scripts/bolt_reference.py" --bench --context 512 --batch 32 --reps 2
