#!/usr/bin/python3
"""Train the small Chronos-Bolt demo model on synthetic series only.

    /usr/bin/python3 scripts/train-bolt-demo.py --out models/chronos-bolt-demo [--steps N]

A Chronos-Bolt checkpoint (T5 encoder over patches of 16 with the [REG] token,
one decoder step, residual quantile head; context 512, prediction 64, the nine
levels 0.1 .. 0.9 of the published amazon/chronos-bolt-* models) in the exact
Hugging Face layout.  The model code is scripts/bolt_reference.py (the reference
the goldens in testdata/bolt come from), so what is trained is what the C forward
pass is tested against.

Objective as Chronos-Bolt trains: the future is scaled with the context's
instance-norm loc and scale, and the quantile (pinball) loss
2 * |(y - q) * (1[y <= q] - level)| is averaged over levels and the 64 steps,
here with step weights 1/sqrt(step) (quantile_loss says why).

Data: the synthetic generator of scripts/train-demo-model.py (imported, not
copied): random walks with volatility regimes, trend + seasonality, AR
processes; 20 % of the contexts left-padded with NaN, 5 % with a few missing
values.  Never real data.

Initialisation (--init structured, the default): hand-written weights under which
every quantile starts at the last observed value plus a small level offset (see
structured_weights); --init plain is T5-style random.

Seeded (torch and numpy), CPU; prints the loss curve (train EMA and a fixed
synthetic validation set) and saves config.json + model.safetensors (F32) plus
training-log.json.
"""

import argparse
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bolt_reference as bref  # noqa: E402
from chronos_reference import safetensors_read, safetensors_write, write_json  # noqa: E402


def load_generator():
    """scripts/train-demo-model.py as a module (its name has dashes)."""
    spec = importlib.util.spec_from_file_location("train_demo_model", os.path.join(HERE, "train-demo-model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


syn = load_generator()

DIMS = dict(d_model=128, d_kv=32, d_ff=512, num_layers=3, num_decoder_layers=2, num_heads=4,
            patch_size=16, patch_stride=16, context_length=512, prediction_length=64)
PRED = DIMS["prediction_length"]
CTX_LENS = [64, 128, 200, 256, 384, 512]
CTX_P = [0.15, 0.2, 0.15, 0.2, 0.15, 0.15]
VAL_SEED = 20261204

# residual-stream layout of the structured start
ONE, VAL, COPY, REG, START = 0, 1, 2, 3, 4
K_ONE = 40.0       # the constant that dominates every position's RMS
FLAG = 4.0         # size of the REG / decoder-start flags
LEVEL_SPREAD = 0.03  # initial quantile offset per unit of z-score and sqrt(step)


def make_batch(rng, batch, ctx_len):
    """(context with NaN, scaled-later future) for one step; all windows share ctx_len."""
    xs, ys = [], []
    for _ in range(batch):
        s = syn.sample_series(rng, ctx_len + PRED).astype(np.float32)
        if not np.all(np.isfinite(s)):
            s = np.nan_to_num(s, nan=0.0, posinf=0.0, neginf=0.0)
        c, y = s[:ctx_len].copy(), s[ctx_len:].copy()
        if rng.random() < 0.2:
            c[: rng.integers(1, ctx_len - 16)] = np.nan
        if rng.random() < 0.05:
            c[rng.integers(0, ctx_len, rng.integers(1, 6))] = np.nan
        xs.append(c)
        ys.append(y)
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def scaled_quantiles(model, ctx):
    """The model's quantiles in the scaled space (before * scale + loc), with
    loc and scale: the pieces of bolt_reference.Bolt.forward."""
    c = model.cfg
    enc, att, loc, scale = model.encode(ctx)
    ids = torch.full((ctx.shape[0], 1), c.decoder_start, dtype=torch.long)
    hid = model.t5.decode_full(ids, enc, att, hidden=True)
    q = model.resblock("output_patch_embedding", hid).view(ctx.shape[0], len(c.quantiles), c.prediction_length)
    return q, loc, scale


def quantile_loss(q, y, levels):
    """q (B, Q, P), y (B, P) both scaled; pinball loss x2 as Bolt, averaged over
    levels and windows, and over the steps with weight 1/sqrt(step) (normalised
    to mean 1).  Bolt averages the steps evenly; but a forecast's error grows
    like sqrt(step), so an even average gives the first steps (where the last
    value matters most) a small share of the signal, and in a first 100-step
    try the even loss moved the one-step median away from the last value."""
    d = y[:, None, :] - q
    lv = levels[None, :, None]
    sw = torch.arange(1, q.shape[-1] + 1, dtype=q.dtype).rsqrt()
    sw = sw / sw.mean()
    return (2.0 * torch.abs(d * ((d <= 0).to(q.dtype) - lv)) * sw).mean()


def batch_loss(model, ctx, fut, levels):
    q, loc, scale = scaled_quantiles(model, ctx)
    y = (fut - loc) / scale
    return quantile_loss(q, y, levels)


def plain_weights(cfg, seed):
    """bolt_reference.random_weights rescaled to T5's own initialisation
    (factor 1): the reference enlarges scales for golden-file contrast."""
    g = torch.Generator().manual_seed(seed + 1)
    w = bref.random_weights(cfg, seed)
    d, dkv, H, dff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    for k in list(w):
        shp = w[k].shape
        if k.endswith(".q.weight"):
            w[k] = torch.randn(shp, generator=g) * (d * dkv) ** -0.5
        elif k.endswith(".k.weight") or k.endswith(".v.weight"):
            w[k] = torch.randn(shp, generator=g) * d ** -0.5
        elif k.endswith(".o.weight"):
            w[k] = torch.randn(shp, generator=g) * (H * dkv) ** -0.5
        elif k.endswith(".wo.weight"):
            w[k] = torch.randn(shp, generator=g) * dff ** -0.5
        elif k.endswith("relative_attention_bias.weight"):
            w[k] = torch.randn(shp, generator=g) * d ** -0.5
        elif k.endswith("layer_norm.weight"):
            w[k] = torch.ones(shp)
        elif k.endswith(".bias"):
            w[k] = torch.zeros(shp)
        elif k.endswith("_layer.weight"):
            w[k] = torch.randn(shp, generator=g) * shp[-1] ** -0.5
        elif k == "shared.weight":
            w[k] = torch.randn(shp, generator=g)
    return w


def structured_weights(cfg, seed, free_scale=0.05):
    """Start from a model whose every quantile is the last observed value plus a
    small level offset, so training spends its minutes on the rest.

    Data-free: written by hand, nothing fitted.  Residual-stream layout: ONE a
    constant K_ONE that dominates the RMS of every position (so the T5 RMS norms
    divide by a near-constant, undone by the norm weights), VAL the last value
    of a patch, COPY the left neighbour's VAL, REG and START flags.
      * input_patch_embedding: residual layer writes the patch's last scaled
        value into VAL and K_ONE into ONE;
      * encoder layer 0, head 0: no content, relative bias +10 on the left
        neighbour, -10 elsewhere; copies VAL into COPY, so the [REG] token (last)
        holds the last patch's last value;
      * decoder layer 0, cross-attention head 0: the START flag queries the REG
        flag and copies COPY into VAL;
      * output_patch_embedding: every (level, step) output reads VAL, plus a bias
        z(level) * LEVEL_SPREAD * sqrt(step) so the quantiles start ordered.
    Everything else is plain_weights with the attention / feed-forward / residual
    block output projections scaled by free_scale and kept off the special
    dimensions, so they start as small perturbations."""
    w = plain_weights(cfg, seed)
    d, dkv, H = cfg.d_model, cfg.d_kv, cfg.num_heads
    ps = cfg.patch_size
    spec = [ONE, VAL, COPY, REG, START]
    rms_pos = K_ONE / math.sqrt(d)  # typical RMS of a position
    for k in w:
        if k.endswith(".o.weight") or k.endswith(".wo.weight") or k.endswith("output_layer.weight"):
            w[k] = w[k] * free_scale
    for k in w:  # nothing but the circuit writes the special dimensions
        if (k.endswith(".o.weight") or k.endswith(".wo.weight")) or \
                k.startswith("input_patch_embedding.") and not k.endswith("hidden_layer.weight") \
                and not k.endswith("hidden_layer.bias"):
            w[k][spec] = 0.0
    # free dimensions of the patch embedding small, so ONE dominates the RMS
    for k in ("input_patch_embedding.residual_layer.weight", "input_patch_embedding.output_layer.weight"):
        w[k] *= 0.3
    w["input_patch_embedding.residual_layer.weight"][VAL, ps - 1] = 1.0
    w["input_patch_embedding.residual_layer.bias"][ONE] = K_ONE
    emb = torch.randn(w["shared.weight"].shape, generator=torch.Generator().manual_seed(seed + 2)) * 0.3
    emb[:, spec] = 0.0
    emb[:, ONE] = K_ONE
    emb[cfg.decoder_start, START] = FLAG
    emb[1, REG] = FLAG
    w["shared.weight"] = emb
    # encoder: left-neighbour copy; the norm before it gives VAL weight rms_pos
    p = "encoder.block.0.layer.0"
    w[p + ".layer_norm.weight"][VAL] = rms_pos
    a = p + ".SelfAttention"
    w[a + ".q.weight"][0:dkv] = 0.0
    w[a + ".k.weight"][0:dkv] = 0.0
    w[a + ".v.weight"][0:dkv] = 0.0
    w[a + ".v.weight"][0, VAL] = 1.0
    w[a + ".o.weight"][:, 0:dkv] = 0.0
    w[a + ".o.weight"][COPY, 0] = 1.0
    rb = w[a + ".relative_attention_bias.weight"]
    rb[:, 0] = -10.0
    rb[1, 0] = 10.0  # rel = key - query = -1 is bucket 1 (bidirectional)
    # encoder final norm: COPY and REG read back at their own size
    w["encoder.final_layer_norm.weight"][COPY] = rms_pos
    w["encoder.final_layer_norm.weight"][REG] = rms_pos
    # decoder: START queries REG, fetches COPY into VAL
    p = "decoder.block.0.layer.1"
    a = p + ".EncDecAttention"
    start_rms = math.sqrt((K_ONE ** 2 + FLAG ** 2) / d)
    w[p + ".layer_norm.weight"][START] = start_rms
    w[a + ".q.weight"][0:dkv] = 0.0
    w[a + ".q.weight"][0, START] = 1.0
    w[a + ".k.weight"][0:dkv] = 0.0
    w[a + ".k.weight"][0, REG] = 5.0 / FLAG  # score 5 * FLAG = 20 on [REG], 0 elsewhere
    w[a + ".v.weight"][0:dkv] = 0.0
    w[a + ".v.weight"][0, COPY] = 1.0
    w[a + ".o.weight"][:, 0:dkv] = 0.0
    w[a + ".o.weight"][VAL, 0] = 1.0
    w["decoder.final_layer_norm.weight"][VAL] = start_rms
    # quantile head: every output reads VAL, plus ordered offsets
    Q, P = len(cfg.quantiles), cfg.prediction_length
    rl = w["output_patch_embedding.residual_layer.weight"]
    rl *= free_scale
    rl[:, spec] = 0.0
    rl[:, VAL] = 1.0
    z = torch.tensor([math.sqrt(2.0) * torch.erfinv(torch.tensor(2 * lv - 1)).item() for lv in cfg.quantiles])
    off = z[:, None] * LEVEL_SPREAD * torch.sqrt(torch.arange(1, P + 1, dtype=torch.float32))[None, :]
    w["output_patch_embedding.residual_layer.bias"] = off.reshape(Q * P).clone()
    w["output_patch_embedding.output_layer.bias"] = torch.zeros(Q * P)
    # the hidden layer of the head sees ONE at ~sqrt(d); keep it from saturating
    w["output_patch_embedding.hidden_layer.weight"][:, ONE] *= 0.1
    # the RMS norms above divide by slightly more than K_ONE / sqrt(d) (the free
    # dimensions add a little); measure that gain on synthetic random walks and
    # undo it in the head (a single scalar; no real data involved)
    cal = np.random.default_rng(seed + 5)
    ctx = torch.from_numpy(np.stack([syn.random_walk(cal, 256).astype(np.float32) for _ in range(64)]))
    with torch.no_grad():
        q, loc, scale = scaled_quantiles(bref.Bolt(cfg, w), ctx)
    last = ((ctx[:, -1:] - loc) / scale)[:, 0]
    med = q[:, Q // 2, 0] - w["output_patch_embedding.residual_layer.bias"][(Q // 2) * P]
    gain = float((med * last).sum() / (last * last).sum())
    rl[:, VAL] = 1.0 / gain
    return w


def rw_probe(model, rng, n=64, ctx_len=256):
    """Median MAE over the random walk's (last value) on fresh synthetic random
    walks, both in the scaled space, and the 10-90 % band coverage, at steps
    1, 16 and 64: a quick check that the model starts at the last value."""
    xs, ys = [], []
    for _ in range(n):
        s = syn.random_walk(rng, ctx_len + PRED).astype(np.float32)
        xs.append(s[:ctx_len])
        ys.append(s[ctx_len:])
    ctx, fut = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    with torch.no_grad():
        q, loc, scale = scaled_quantiles(model, ctx)
    y = (fut - loc) / scale
    last = (ctx[:, -1:] - loc) / scale
    med = q[:, len(model.cfg.quantiles) // 2]
    out = {}
    for h in (1, 16, 64):
        e_m = (med[:, h - 1] - y[:, h - 1]).abs().mean().item()
        e_r = (last[:, 0] - y[:, h - 1]).abs().mean().item()
        cov = ((q[:, 0, h - 1] <= y[:, h - 1]) & (y[:, h - 1] <= q[:, -1, h - 1])).float().mean().item()
        out[h] = (round(e_m / e_r, 3), round(cov, 3))
    return out


def save(out, cj, params, log, elapsed):
    os.makedirs(out, exist_ok=True)
    w = {k: v.detach().clone() for k, v in params.items()}
    with open(os.path.join(out, "config.json.tmp"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "config.json.tmp"), os.path.join(out, "config.json"))
    safetensors_write(os.path.join(out, "model.safetensors"), w, "F32")
    log["elapsed_s"] = round(elapsed)
    write_json(os.path.join(out, "training-log.json"), log)


def parse_args(out, steps, seed):
    """The options of both quantile-model trainers (this one and
    train-chronos2-demo.py), with their own output, step and seed defaults."""
    ap = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__.split("\n")[0])
    ap.add_argument("--out", default=out)
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--rw-share", type=float, default=0.6, help="share of random walks in the data")
    ap.add_argument("--budget-min", type=float, default=27.0,
                    help="wall-time budget in minutes (0: none); the schedule ends at the budget or --steps")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--init", choices=["plain", "structured"], default="structured")
    ap.add_argument("--probe", action="store_true", help="only print the random-walk probe of the start")
    return ap.parse_args()


def train(a, cj, params, model, rng, draw, val_seed, val_set, loss_fn, probe, log):
    """The training loop both quantile-model trainers share: AdamW (weight
    decay on the weight matrices), 5 % warm-up then cosine decay on a step or
    wall-time budget, gradient clipping, a fixed synthetic validation set
    (val_set(vrng), vrng seeded with val_seed, drawn from the default
    generator mix), the random-walk
    probe, checkpoints every --save-every steps. draw(rng) gives a training
    batch (context, future); loss_fn(model, context, future) its loss;
    probe(model) the random-walk probe; log the run's description, to which
    the curve is added."""
    syn.GENERATORS[:] = [(syn.random_walk, a.rw_share), (syn.trend_season, (1 - a.rw_share) / 2),
                         (syn.ar_process, (1 - a.rw_share) / 2)]
    decay = [v for k, v in params.items() if k.endswith(".weight") and not k.endswith("norm.weight")]
    nodecay = [v for k, v in params.items() if not (k.endswith(".weight") and not k.endswith("norm.weight"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": nodecay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.98))

    def progress(step, elapsed):
        """How far the run is, 0..1: by steps, or by wall time when a budget is
        set (the machine is shared, so the step rate varies: the schedule
        follows whichever runs out first, and the run stops there)."""
        f = step / a.steps
        if a.budget_min:
            f = max(f, elapsed / (60.0 * a.budget_min))
        return min(f, 1.0)

    def lr_at(f):
        """5 % linear warm-up, then cosine decay to 5 % of lr."""
        if f < 0.05:
            return a.lr * max(f, 1e-3) / 0.05
        pr = (f - 0.05) / 0.95
        return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * pr)))

    mix = list(syn.GENERATORS)
    syn.GENERATORS[:] = syn.DEFAULT_GENERATORS
    val = val_set(np.random.default_rng(val_seed))
    syn.GENERATORS[:] = mix

    def val_loss():
        with torch.no_grad():
            return float(np.mean([loss_fn(model, c, f).item() for c, f in val]))

    nparam = log["params"]
    log["curve"] = []
    print(f"params {nparam} ({nparam * 4 / 1e6:.1f} MB f32), steps {a.steps}, batch {a.batch}", flush=True)
    t0 = time.time()
    ema = None
    v0 = val_loss()
    pr = probe(model)
    print(f"step 0 val {v0:.4f} probe {pr}", flush=True)
    log["curve"].append({"step": 0, "val": round(v0, 4), "elapsed_s": 0, "probe": pr})
    step = 0
    while progress(step, time.time() - t0) < 1.0:
        lr = lr_at(progress(step, time.time() - t0))
        for gr in opt.param_groups:
            gr["lr"] = lr
        ctx, fut = draw(rng)
        loss = loss_fn(model, ctx, fut)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        li = loss.item()
        ema = li if ema is None else 0.95 * ema + 0.05 * li
        step = s = step + 1
        last = progress(s, time.time() - t0) >= 1.0
        if s % a.log_every == 0 or last:
            el = time.time() - t0
            print(f"step {s} loss {li:.4f} ema {ema:.4f} lr {lr:.2e} elapsed {el:.0f}s", flush=True)
            entry = {"step": s, "train_ema": round(ema, 4), "elapsed_s": round(el)}
            if s % a.val_every == 0 or last:
                entry["val"] = round(val_loss(), 4)
                entry["probe"] = probe(model)
                print(f"step {s} val {entry['val']:.4f} probe {entry['probe']}", flush=True)
            log["curve"].append(entry)
        if s % a.save_every == 0 or last:
            save(a.out, cj, params, log, time.time() - t0)
    log["steps_done"] = step
    save(a.out, cj, params, log, time.time() - t0)
    print(f"done: {step} steps in {time.time() - t0:.0f}s", flush=True)
    return 0


def main():
    a = parse_args("models/chronos-bolt-demo", 8000, 20261205)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    cj = bref.make_config(**DIMS)
    cj["initializer_factor"] = 1.0
    cfg = bref.BoltCfg(cj)
    w = structured_weights(cfg, a.seed) if a.init == "structured" else plain_weights(cfg, a.seed)
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    model = bref.Bolt(cfg, params)
    levels = torch.tensor(cfg.quantiles, dtype=torch.float32)
    nparam = sum(v.numel() for v in params.values())
    if a.probe:
        print(f"init {a.init}: h -> (median MAE / random walk MAE, 10-90 % coverage)",
              rw_probe(model, np.random.default_rng(a.seed + 3)))
        return 0

    def draw(r):
        return make_batch(r, a.batch, int(r.choice(CTX_LENS, p=CTX_P)))

    log = {"seed": a.seed, "steps": a.steps, "budget_min": a.budget_min, "batch": a.batch, "lr": a.lr, "params": nparam,
           "dims": DIMS, "rw_share": a.rw_share, "init": a.init, "threads": a.threads,
           "ctx_lens": CTX_LENS, "ctx_p": CTX_P}
    return train(a, cj, params, model, rng, draw, VAL_SEED, lambda vr: [make_batch(vr, 32, L) for L in (128, 512)],
                 lambda m, c, f: batch_loss(m, c, f, levels),
                 lambda m: rw_probe(m, np.random.default_rng(a.seed + 3)), log)


if __name__ == "__main__":
    sys.exit(main())
