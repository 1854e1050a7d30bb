#!/usr/bin/python3
"""Train the small Chronos-2 demo model on synthetic series only.

    /usr/bin/python3 scripts/train-chronos2-demo.py --out models/chronos-2-demo [--steps N]

A Chronos-2 checkpoint (encoder-only: patches of 16 with time encoding, [REG],
output patches; time self-attention with RoPE and group self-attention in every
block; residual quantile head over the 21 levels of amazon/chronos-2; arcsinh
after the instance norm as the published model) in the exact Hugging Face
layout, context 512, up to 4 output patches (64 steps) per forward pass, so
longer horizons roll out.  The model code is scripts/chronos2_reference.py (the
reference the goldens in testdata/chronos2 come from).

Objective as Chronos-2 trains: the future is normalised with the context's
loc/scale and arcsinh, and the quantile (pinball) loss
2 * |(y - q) * (1[y <= q] - level)| is averaged over levels and steps (with
the step weights 1/sqrt(step) of scripts/train-bolt-demo.py's quantile_loss).  Every
series is its own group (univariate; no covariates in the demo).  The number of
output patches per step is drawn from 1-4, as the pipeline asks for
ceil(remaining / 16) of them.

Data: the synthetic generator of scripts/train-demo-model.py (imported), with
the padding and missing values of scripts/train-bolt-demo.py (imported).
Never real data.

Initialisation (--init structured, the default): hand-written weights under
which every output patch starts at the last observed value (see
structured_weights); --init plain is random at the usual scales.
"""

import importlib.util
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import chronos2_reference as c2  # noqa: E402


def load(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tb = load("train_bolt_demo", "train-bolt-demo.py")  # batches, loss, save
syn = tb.syn

DIMS = dict(d_model=128, d_kv=32, d_ff=512, num_layers=4, num_heads=4, context_length=512, patch=16,
            max_output_patches=4)
P = DIMS["patch"]
CTX_LENS = tb.CTX_LENS
CTX_P = tb.CTX_P
NOUT_P = [0.25, 0.25, 0.2, 0.3]  # 1, 2, 3, 4 output patches
VAL_SEED = 20261206

# residual-stream layout of the structured start
ONE, VAL, OBS, TIME, COPY = 0, 1, 2, 3, 4
K_ONE = 40.0
SLOPE = 256.0   # score per unit of time encoding: 8 between neighbouring patches
OBS_W = 45.0    # score of an observed patch, above every output patch's time
LEVEL_SPREAD = 0.03
RDIM = 15       # the RoPE pair with the lowest frequency (10000^(-30/32) rad per position)


def normalised(model, ctx, out):
    """The model's output back in its normalised space (arcsinh of the scaled
    value), and the context's loc/scale, as Chronos2.forward computes them."""
    c = model.c
    _, (loc, scale) = c2.instance_norm(ctx[..., -c.context_length:], use_arcsinh=c.use_arcsinh)
    y = (out - loc[:, :, None]) / scale[:, :, None]
    return (torch.asinh(y) if c.use_arcsinh else y), loc, scale


def batch_loss(model, ctx, fut, levels):
    n = fut.shape[-1] // P
    out = model.forward(ctx, None, None, n)
    q, loc, scale = normalised(model, ctx, out)
    y = (fut - loc) / scale
    if model.c.use_arcsinh:
        y = torch.asinh(y)
    return tb.quantile_loss(q, y, levels)


def plain_weights(cfg, seed):
    """Chronos2Model-style scales (std d^-0.5 / fan-in^-0.5, norms 1, biases 0)."""
    g = torch.Generator().manual_seed(seed + 1)
    d, dk, H, ff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    w = {}
    for name, shape in c2.tensor_shapes(cfg).items():
        if name.endswith("layer_norm.weight"):
            w[name] = torch.ones(shape)
        elif name.endswith(".bias"):
            w[name] = torch.zeros(shape)
        elif name == "shared.weight":
            w[name] = torch.randn(shape, generator=g)
        elif ".self_attention.q." in name:
            w[name] = torch.randn(shape, generator=g) * (d * dk) ** -0.5
        elif ".self_attention.o." in name:
            w[name] = torch.randn(shape, generator=g) * (H * dk) ** -0.5
        elif ".self_attention." in name:
            w[name] = torch.randn(shape, generator=g) * d ** -0.5
        elif ".mlp.wi." in name:
            w[name] = torch.randn(shape, generator=g) * d ** -0.5
        elif ".mlp.wo." in name:
            w[name] = torch.randn(shape, generator=g) * ff ** -0.5
        else:
            w[name] = torch.randn(shape, generator=g) * shape[-1] ** -0.5
    return w


def structured_weights(cfg, seed, free_scale=0.05):
    """Start from a model whose every output patch is the last observed value
    plus a small level offset.  Data-free except one scalar gain (below).

    Residual-stream layout: ONE a constant K_ONE dominating every position's RMS
    (norm weights undo the near-constant division), VAL the patch's last value,
    OBS the patch's observed share, TIME the time encoding of its last step,
    COPY where the output patches receive the last value.
      * input_patch_embedding (features [time, values, mask]): VAL, OBS, TIME,
        ONE by the residual layer;
      * block 0 time attention, head 0, on the RoPE pair with the lowest
        frequency (nearly no rotation over a few dozen positions): the query is
        constant, the key SLOPE * TIME + OBS_W * OBS, so every position attends
        to the last observed context patch (a context patch's time encoding is
        negative and rises by 16 / 512 per patch; output patches have OBS 0);
        value/output copy VAL into COPY;
      * output_patch_embedding: every output reads COPY, plus a bias
        z(level) * LEVEL_SPREAD * sqrt(step within the patch).
    The other weights are plain_weights with the attention / feed-forward /
    residual-block output projections scaled by free_scale and kept off the
    special dimensions.  The norms leave a gain a little below 1 (the free
    dimensions add to the RMS): measured on synthetic random walks and undone
    in the head."""
    w = plain_weights(cfg, seed)
    d, dkv = cfg.d_model, cfg.d_kv
    p = cfg.patch
    spec = [ONE, VAL, OBS, TIME, COPY]
    rms_pos = K_ONE / math.sqrt(d)
    for k in w:
        if k.endswith(".o.weight") or k.endswith(".wo.weight") or k.endswith("output_layer.weight"):
            w[k] = w[k] * free_scale
    for k in w:
        if k.endswith(".o.weight") or k.endswith(".wo.weight") or \
                (k.startswith("input_patch_embedding.") and "hidden_layer" not in k):
            w[k][spec] = 0.0
    for k in ("input_patch_embedding.residual_layer.weight", "input_patch_embedding.output_layer.weight"):
        w[k] *= 0.3
    rl = w["input_patch_embedding.residual_layer.weight"]  # features: time 0..p-1, values p..2p-1, mask 2p..3p-1
    rl[TIME, p - 1] = 1.0
    rl[VAL, 2 * p - 1] = 1.0
    rl[OBS, 2 * p:3 * p] = 1.0 / p
    w["input_patch_embedding.residual_layer.bias"][ONE] = K_ONE
    emb = torch.randn(w["shared.weight"].shape, generator=torch.Generator().manual_seed(seed + 2)) * 0.3
    emb[:, spec] = 0.0
    emb[:, ONE] = K_ONE
    w["shared.weight"] = emb
    pre = "encoder.block.0.layer.0"
    for dim in (VAL, OBS, TIME):
        w[pre + ".layer_norm.weight"][dim] = rms_pos
    a = pre + ".self_attention"
    w[a + ".q.weight"][0:dkv] = 0.0
    w[a + ".q.weight"][RDIM, ONE] = 1.0 / math.sqrt(d)  # normed ONE is ~sqrt(d): query 1
    w[a + ".k.weight"][0:dkv] = 0.0
    w[a + ".k.weight"][RDIM, TIME] = SLOPE
    w[a + ".k.weight"][RDIM, OBS] = OBS_W
    w[a + ".v.weight"][0:dkv] = 0.0
    w[a + ".v.weight"][0, VAL] = 1.0
    w[a + ".o.weight"][:, 0:dkv] = 0.0
    w[a + ".o.weight"][COPY, 0] = 1.0
    w["encoder.final_layer_norm.weight"][COPY] = rms_pos
    Q = len(cfg.quantiles)
    hl = w["output_patch_embedding.residual_layer.weight"]
    hl *= free_scale
    hl[:, spec] = 0.0
    hl[:, COPY] = 1.0
    z = torch.tensor([math.sqrt(2.0) * torch.erfinv(torch.tensor(2 * lv - 1)).item() for lv in cfg.quantiles])
    off = z[:, None] * LEVEL_SPREAD * torch.sqrt(torch.arange(1, p + 1, dtype=torch.float32))[None, :]
    w["output_patch_embedding.residual_layer.bias"] = off.reshape(Q * p).clone()
    w["output_patch_embedding.output_layer.bias"] = torch.zeros(Q * p)
    w["output_patch_embedding.hidden_layer.weight"][:, ONE] *= 0.1
    # the gain: one scalar, from synthetic random walks
    cal = np.random.default_rng(seed + 5)
    ctx = torch.from_numpy(np.stack([syn.random_walk(cal, 256).astype(np.float32) for _ in range(64)]))
    m = c2.Chronos2(cfg, w)
    with torch.no_grad():
        q, loc, scale = normalised(m, ctx, m.forward(ctx, None, None, 1))
    last = (ctx[:, -1:] - loc) / scale
    if cfg.use_arcsinh:
        last = torch.asinh(last)
    last = last[:, 0]
    med = q[:, Q // 2, 0] - w["output_patch_embedding.residual_layer.bias"][(Q // 2) * p]
    gain = float((med * last).sum() / (last * last).sum())
    hl[:, COPY] = 1.0 / gain
    return w


def rw_probe(model, rng, n=64, ctx_len=256):
    """Median MAE over the random walk's on fresh synthetic random walks (scaled
    space), and the 10-90 % band coverage, at steps 1, 16 and 64."""
    H = 64
    xs, ys = [], []
    for _ in range(n):
        s = syn.random_walk(rng, ctx_len + H).astype(np.float32)
        xs.append(s[:ctx_len])
        ys.append(s[ctx_len:])
    ctx, fut = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    with torch.no_grad():
        out = model.forward(ctx, None, None, H // P)
    _, (loc, scale) = c2.instance_norm(ctx)
    q = (out - loc[:, :, None]) / scale[:, :, None]
    y = (fut - loc) / scale
    last = (ctx[:, -1:] - loc) / scale
    lv = model.c.quantiles
    med, lo, hi = q[:, lv.index(0.5)], q[:, lv.index(0.1)], q[:, lv.index(0.9)]
    res = {}
    for h in (1, 16, 64):
        e_m = (med[:, h - 1] - y[:, h - 1]).abs().mean().item()
        e_r = (last[:, 0] - y[:, h - 1]).abs().mean().item()
        cov = ((lo[:, h - 1] <= y[:, h - 1]) & (y[:, h - 1] <= hi[:, h - 1])).float().mean().item()
        res[h] = (round(e_m / e_r, 3), round(cov, 3))
    return res


def main():
    a = tb.parse_args("models/chronos-2-demo", 4000, 20261207)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    cj = c2.make_config(**DIMS)
    cj["initializer_factor"] = 1.0
    cfg = c2.Cfg(cj)
    w = structured_weights(cfg, a.seed) if a.init == "structured" else plain_weights(cfg, a.seed)
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    model = c2.Chronos2(cfg, params)
    levels = torch.tensor(cfg.quantiles, dtype=torch.float32)
    nparam = sum(v.numel() for v in params.values())
    if a.probe:
        print(f"init {a.init}: h -> (median MAE / random walk MAE, 10-90 % coverage)",
              rw_probe(model, np.random.default_rng(a.seed + 3)))
        return 0

    def batch(r, b, L, n):
        old = tb.PRED
        tb.PRED = n * P
        try:
            return tb.make_batch(r, b, L)
        finally:
            tb.PRED = old

    def draw(r):
        L = int(r.choice(CTX_LENS, p=CTX_P))
        n = int(r.choice([1, 2, 3, 4], p=NOUT_P))
        return batch(r, a.batch, L, n)

    log = {"seed": a.seed, "steps": a.steps, "budget_min": a.budget_min, "batch": a.batch, "lr": a.lr, "params": nparam,
           "dims": DIMS, "rw_share": a.rw_share, "init": a.init, "threads": a.threads,
           "ctx_lens": CTX_LENS, "ctx_p": CTX_P, "nout_p": NOUT_P}
    return tb.train(a, cj, params, model, rng, draw, VAL_SEED,
                    lambda vr: [batch(vr, 32, L, n) for L, n in ((128, 1), (512, 4))],
                    lambda m, c, f: batch_loss(m, c, f, levels),
                    lambda m: rw_probe(m, np.random.default_rng(a.seed + 3)), log)


if __name__ == "__main__":
    sys.exit(main())
