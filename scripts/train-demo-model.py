#!/usr/bin/python3
"""Train the small Chronos-format demo model on synthetic series only.

    /usr/bin/python3 scripts/train-demo-model.py --out models/chronos-demo [--steps N]

A T5 encoder-decoder with the Chronos MeanScaleUniformBins tokenizer (4096 tokens,
2 special, EOS appended, context 512, prediction 64), trained with cross-entropy on
the next-token targets exactly as Chronos trains (labels = future values tokenized
with the context's scale, EOS appended; decoder input = labels shifted right after
decoder_start_token_id 0).  The model and tokenizer code is the reference in
scripts/chronos_reference.py, so what is trained here is what the golden files test.

Training data: an on-the-fly synthetic generator in the spirit of Chronos'
KernelSynth, never real data (and never USD/CLP, the evaluation series):
  * random walks, additive or geometric, with drift, volatility regimes
    (Markov-switching), fat-tailed shocks and occasional jumps;
  * trend + seasonality (one to three periods) + noise, with level shifts;
  * AR(1)/AR(2) processes around a level, sometimes integrated (ARIMA(p,1,0));
plus random left padding (NaN -> PAD, mask 0) and a few missing values.

Initialisation (--init structured, the default): hand-written weights that
already forecast "previous value plus a bin or two" (see structured_weights);
without it a model this small, trained for minutes, never learns to start its
forecast at the last observed value (tried: 3000 steps from the T5 init left the
first forecast near the context's typical level, 2x-5x worse than the random walk).

Seeded (torch and numpy), CPU, two threads by default (--threads); prints its
loss curve (train EMA and a fixed synthetic validation set) and saves config.json +
model.safetensors in the Hugging Face layout, plus training-log.json.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chronos_reference as ref  # noqa: E402

DIMS = dict(d_model=128, d_kv=32, num_heads=4, d_ff=512, num_layers=2, num_decoder_layers=2)
N_TOKENS = 4096
CONTEXT = 512
PRED = 64


# --------------------------------------------------------------------------
# synthetic series
# --------------------------------------------------------------------------

def random_walk(rng, n):
    level = 10 ** rng.uniform(0, 3.5)
    geometric = rng.random() < 0.6
    # volatility regimes: 1-3 regimes, Markov switching
    k = rng.integers(1, 4)
    vols = np.sort(10 ** rng.uniform(-3.3, -1.3, k))  # per-step relative vol 0.05 % .. 5 %
    p_stay = rng.uniform(0.97, 0.998)
    drift = rng.normal(0, 1) * 10 ** rng.uniform(-5, -2.7) * (rng.random() < 0.5)
    df = rng.choice([3.0, 5.0, 30.0])
    eps = rng.standard_t(df, n) / math.sqrt(df / (df - 2))
    state = rng.integers(0, k)
    sig = np.empty(n)
    for t in range(n):
        if rng.random() > p_stay:
            state = rng.integers(0, k)
        sig[t] = vols[state]
    steps = drift + sig * eps
    if rng.random() < 0.3:  # occasional jumps
        nj = rng.integers(1, 4)
        idx = rng.integers(0, n, nj)
        steps[idx] += rng.normal(0, 8, nj) * sig[idx]
    if geometric:
        x = level * np.exp(np.cumsum(steps))
    else:
        x = level + level * np.cumsum(steps)
    return x


def trend_season(rng, n):
    t = np.arange(n, dtype=np.float64)
    level = rng.normal(0, 1) * 10 ** rng.uniform(0, 3)
    amp_base = abs(level) * rng.uniform(0.02, 0.5) + rng.uniform(0.1, 2)
    x = level + rng.normal(0, 1) * amp_base * t / n * rng.uniform(0, 3)
    for _ in range(rng.integers(1, 4)):
        period = rng.choice([4, 5, 7, 12, 14, 24, 30, 52, 60, 96, 168]) * rng.uniform(0.97, 1.03)
        amp = amp_base * rng.uniform(0.1, 1.0)
        phase = rng.uniform(0, 2 * math.pi)
        shape = rng.random()
        s = np.sin(2 * math.pi * t / period + phase)
        if shape < 0.2:
            s = np.sign(s)
        elif shape < 0.4:
            s = s ** 3
        x = x + amp * s
    x = x + rng.normal(0, 1, n) * amp_base * rng.uniform(0.01, 0.4)
    if rng.random() < 0.2:
        c = rng.integers(n // 4, n)
        x[c:] += rng.normal(0, 1) * amp_base
    if rng.random() < 0.3:  # positive-only series (counts, prices)
        x = x - x.min() + abs(rng.normal(0, 1)) * amp_base
    return x


def ar_process(rng, n):
    level = rng.normal(0, 1) * 10 ** rng.uniform(0, 3)
    sigma = (abs(level) + 1) * 10 ** rng.uniform(-3, -0.7)
    if rng.random() < 0.5:
        phi = [rng.uniform(-0.5, 0.99)]
    else:
        r1, r2 = rng.uniform(0.2, 0.98), rng.uniform(-0.9, 0.9)
        phi = [r1 + r2 * 0.5, -r1 * r2 * 0.5]
    x = np.zeros(n + 50)
    e = rng.normal(0, sigma, n + 50)
    for t in range(2, n + 50):
        x[t] = sum(p * x[t - 1 - i] for i, p in enumerate(phi)) + e[t]
    x = x[50:]
    if rng.random() < 0.3:  # ARIMA(p,1,0)
        x = np.cumsum(x) * 0.3
    return level + x


GENERATORS = [(random_walk, 0.5), (trend_season, 0.25), (ar_process, 0.25)]
DEFAULT_GENERATORS = list(GENERATORS)
VAL_SEED = 20261124  # fixed synthetic validation set, 50/25/25 data mix


def sample_series(rng, n):
    u = rng.random()
    acc = 0.0
    for g, p in GENERATORS:
        acc += p
        if u < acc:
            return g(rng, n)
    return GENERATORS[-1][0](rng, n)


def make_batch(rng, tok, batch, ctx_len):
    """Token batch for one training step: all examples share ctx_len; some are
    left-padded with NaN (PAD) and a few values go missing."""
    cfg = tok.cfg
    xs, ys = [], []
    for _ in range(batch):
        s = sample_series(rng, ctx_len + PRED).astype(np.float32)
        if not np.all(np.isfinite(s)):
            s = np.nan_to_num(s, nan=0.0, posinf=0.0, neginf=0.0)
        c, y = s[:ctx_len].copy(), s[ctx_len:].copy()
        if rng.random() < 0.2:
            c[: rng.integers(1, ctx_len - 16)] = np.nan
        if rng.random() < 0.05:
            c[rng.integers(0, ctx_len, rng.integers(1, 6))] = np.nan
        xs.append(c)
        ys.append(y)
    x = torch.from_numpy(np.stack(xs))
    y = torch.from_numpy(np.stack(ys))
    ids, mask, scale, _ = tok.context_transform(x)
    lab, lmask, _, _ = tok.input_transform(y, scale)
    lab = torch.cat((lab, torch.full((batch, 1), cfg.eos_id)), dim=1)
    lmask = torch.cat((lmask, torch.ones(batch, 1, dtype=torch.bool)), dim=1)
    lab[~lmask] = -100
    dec_in = torch.cat((torch.full((batch, 1), cfg.decoder_start), lab[:, :-1]), dim=1)
    dec_in[dec_in == -100] = cfg.pad_id
    return ids, mask, dec_in, lab


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------

def loss_fn(model, ids, mask, dec_in, lab, first_weight=1.0):
    """Mean cross-entropy over target tokens.  With first_weight > 1 the first
    target position gets that weight and positions 1-7 weight 2: with teacher
    forcing every later token can be copied from the decoder's own previous
    input, and only the first one must come from the encoder (the last observed
    value), so an unweighted loss gives that circuit 1/65 of the signal."""
    enc = model.encode(ids, mask)
    logits = model.decode_full(dec_in, enc, mask)
    if first_weight == 1.0:
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1),
                                                 ignore_index=-100)
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1),
                                           ignore_index=-100, reduction="none").view(lab.shape)
    w = torch.ones(lab.shape[1])
    if first_weight != 1.0:
        w[1:8] = 2.0
        w[0] = first_weight
    w = w[None, :] * (lab != -100)
    return (ce * w).sum() / w.sum()


CTX_LENS = [64, 128, 256, 384, 512]
CTX_MIX = {
    # mostly shorter contexts (cheap), some full 512 so long windows are seen
    "long": [0.15, 0.25, 0.35, 0.15, 0.10],
    # shorter still, more steps per minute; relative positions beyond 128 share
    # one bucket, so long windows need little
    "short": [0.30, 0.35, 0.25, 0.05, 0.05],
}


# --------------------------------------------------------------------------
# structured initialisation
# --------------------------------------------------------------------------

SLOT_V = slice(0, 32)    # value features of the token at this position
SLOT_C = slice(32, 64)   # encoder: value features of the left neighbour
DIM_EOS = 64             # EOS flag
DIM_START = 65           # PAD / decoder-start flag
OMEGA_MAX = 0.5          # highest frequency of the value features, radians per bin
OUT_GAIN = 10.0          # decoder final layer-norm weight on SLOT_V: sharpness of the copy


def value_features(n_bins):
    """(n_bins, 32): cos and sin of 16 frequencies of the bin index, geometric
    from half a cycle over the whole range to OMEGA_MAX.  Neighbouring bins get
    similar vectors, so a tied head reading them back gives a peaked, smooth
    distribution around the bin that was written."""
    i = torch.arange(n_bins, dtype=torch.float64)[:, None]
    om = torch.tensor(np.geomspace(2 * math.pi / 8192, OMEGA_MAX, 16))[None, :]
    return torch.cat((torch.cos(i * om), torch.sin(i * om)), dim=1).to(torch.float32)


def structured_weights(cfg, w, seed, free_scale=0.05):
    """Start from a model that already forecasts like a random walk, so training
    spends its few thousand steps on the rest (volatility, trends, seasons).

    Data-free: the weights below are written by hand, nothing is fitted.
    Residual-stream layout (d_model 128): SLOT_V value features of the token,
    SLOT_C the left neighbour's value features (encoder), DIM_EOS, DIM_START,
    the other 62 dimensions free.
      * embeddings: bin tokens carry value_features(bin) in SLOT_V, EOS a flag in
        DIM_EOS, PAD (the decoder start) a flag in DIM_START;
      * encoder layer 0, head 0: query and key zero, relative bias +10 on the left
        neighbour and -10 elsewhere, value/output copy SLOT_V into SLOT_C, so the
        EOS position holds the last observed value;
      * decoder layer 0, cross-attention head 0: the DIM_START flag queries the
        DIM_EOS flag, value/output copy the encoder's SLOT_C into SLOT_V, so the
        first forecast position holds the last observed value;
      * every later decoder position holds its input token (the previous forecast
        value) in SLOT_V already; the tied head reads SLOT_V back, sharpened by
        the final layer norm, so each step is "previous value plus a bin or two".
    Everything else keeps the T5 initialisation, with the output projections of
    attention and feed-forward scaled by free_scale so they start as small
    perturbations that training can grow."""
    d, dkv = cfg.d_model, cfg.d_kv
    assert d == 128 and dkv == 32, "the layout assumes d_model 128, d_kv 32"
    g = torch.Generator().manual_seed(seed + 7)
    n_bins = cfg.n_tokens - cfg.n_special - 1
    emb = torch.randn((cfg.n_tokens, d), generator=g) * 0.02
    feats = value_features(n_bins)
    # token id t decodes to centre t - n_special - 1 (Tokenizer.output_transform)
    ids = torch.arange(cfg.n_special, cfg.n_tokens)
    emb[ids, SLOT_V] = feats[torch.clamp(ids - cfg.n_special - 1, 0, n_bins - 1)]
    emb[:, SLOT_C] = 0.0
    emb[:, DIM_EOS] = 0.0
    emb[:, DIM_START] = 0.0
    emb[cfg.pad_id] = 0.0
    emb[cfg.pad_id, DIM_START] = 1.0
    emb[cfg.eos_id] = 0.0
    emb[cfg.eos_id, DIM_EOS] = 4.0
    w["shared.weight"] = emb
    for k in w:
        if k.endswith(".o.weight") or k.endswith(".wo.weight"):
            w[k] = w[k] * free_scale
    eye = torch.eye(32)
    # encoder: left-neighbour copy
    p = "encoder.block.0.layer.0.SelfAttention"
    w[p + ".q.weight"][0:dkv] = 0.0
    w[p + ".k.weight"][0:dkv] = 0.0
    w[p + ".v.weight"][0:dkv] = 0.0
    w[p + ".v.weight"][0:dkv, SLOT_V] = eye
    w[p + ".o.weight"][:, 0:dkv] = 0.0
    w[p + ".o.weight"][SLOT_C, 0:dkv] = eye * 0.354  # SLOT_C ~ the embedding's size
    w[p + ".o.weight"][SLOT_V, :] = 0.0
    w[p + ".o.weight"][SLOT_C, dkv:] = 0.0
    rb = w[p + ".relative_attention_bias.weight"]
    rb[:, 0] = -10.0
    rb[1, 0] = 10.0  # rel = key - query = -1 is bucket 1 (bidirectional)
    for i in range(cfg.num_layers):  # nothing else writes the copy slots at first
        for q in (f"encoder.block.{i}.layer.0.SelfAttention.o.weight", f"encoder.block.{i}.layer.1.DenseReluDense.wo.weight"):
            if not (i == 0 and "SelfAttention" in q):
                w[q][SLOT_C] = 0.0
                w[q][SLOT_V] = 0.0
                w[q][DIM_EOS] = 0.0
    # decoder: the start position fetches the last value through cross-attention
    p = "decoder.block.0.layer.1.EncDecAttention"
    w[p + ".q.weight"][0:dkv] = 0.0
    w[p + ".q.weight"][0, DIM_START] = 0.5
    w[p + ".k.weight"][0:dkv] = 0.0
    w[p + ".k.weight"][0, DIM_EOS] = 0.5
    w[p + ".v.weight"][0:dkv] = 0.0
    w[p + ".v.weight"][0:dkv, SLOT_C] = eye
    w[p + ".o.weight"][:, 0:dkv] = 0.0
    w[p + ".o.weight"][SLOT_V, 0:dkv] = eye * 0.25
    w[p + ".o.weight"][SLOT_V, dkv:] = 0.0
    for i in range(cfg.num_decoder_layers):
        for q in (f"decoder.block.{i}.layer.0.SelfAttention.o.weight",
                  f"decoder.block.{i}.layer.1.EncDecAttention.o.weight",
                  f"decoder.block.{i}.layer.2.DenseReluDense.wo.weight"):
            if not (i == 0 and "EncDec" in q):
                w[q][SLOT_V] = 0.0
    w["decoder.final_layer_norm.weight"][SLOT_V] = OUT_GAIN
    return w


def ctx_len_for_step(rng, mix):
    return int(rng.choice(CTX_LENS, p=CTX_MIX[mix]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="models/chronos-demo")
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--val-every", type=int, default=150)
    ap.add_argument("--save-every", type=int, default=300)
    ap.add_argument("--ctx-mix", choices=sorted(CTX_MIX), default="short")
    ap.add_argument("--rw-share", type=float, default=0.6, help="share of random walks in the data")
    ap.add_argument("--first-weight", type=float, default=4.0,
                    help="loss weight of the first target token (positions 1-7 get 2)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--init", choices=["t5", "structured"], default="structured",
                    help="fresh T5 initialisation, or the hand-written random-walk start (structured_weights)")
    ap.add_argument("--init-from", metavar="DIR", help="start from DIR/model.safetensors instead of a fresh init")
    ap.add_argument("--eval-synthetic", type=int, metavar="N", default=0,
                    help="only evaluate the saved model on N held-out synthetic random walks")
    a = ap.parse_args()
    if a.eval_synthetic:
        eval_synthetic(a.out, a.eval_synthetic, a.seed + 2)
        return 0

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    cj = ref.make_config(n_tokens=N_TOKENS, context_length=CONTEXT, prediction_length=PRED,
                         ffp="relu", **DIMS)
    cj["initializer_factor"] = 1.0
    cj.pop("torch_dtype", None)
    cj["torch_dtype"] = "float32"
    cfg = ref.Cfg(cj)
    tok = ref.Tokenizer(cfg)

    # HF T5 init (T5PreTrainedModel._init_weights, factor 1): the reference's
    # random_weights enlarges q/o/wo and the relative bias for golden-file
    # contrast; training starts from the plain scales instead.
    g = torch.Generator().manual_seed(a.seed)
    w = ref.random_weights(cfg, a.seed, "current")
    d, dkv, H, dff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    for k in w:
        if k.endswith(".q.weight"):
            w[k] = torch.randn(w[k].shape, generator=g) * (d * dkv) ** -0.5
        elif k.endswith(".o.weight"):
            w[k] = torch.randn(w[k].shape, generator=g) * (H * dkv) ** -0.5
        elif k.endswith(".wo.weight"):
            w[k] = torch.randn(w[k].shape, generator=g) * dff ** -0.5
        elif k.endswith("relative_attention_bias.weight"):
            w[k] = torch.randn(w[k].shape, generator=g) * d ** -0.5
        elif k.endswith("layer_norm.weight"):
            w[k] = torch.ones_like(w[k])
    if a.init == "structured":
        w = structured_weights(cfg, w, a.seed)
    if a.init_from:
        w = ref.safetensors_read(os.path.join(a.init_from, "model.safetensors"))
    GENERATORS[:] = [(random_walk, a.rw_share), (trend_season, (1 - a.rw_share) / 2),
                     (ar_process, (1 - a.rw_share) / 2)]
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    model = ref.T5(cfg, params)
    nparam = sum(v.numel() for v in params.values())

    decay = [v for k, v in params.items() if not k.endswith("layer_norm.weight")]
    nodecay = [v for k, v in params.items() if k.endswith("layer_norm.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": nodecay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.98))
    warm = max(1, a.steps // 20)

    def lr_at(step):
        if step < warm:
            return a.lr * (step + 1) / warm
        p = (step - warm) / max(1, a.steps - warm)
        return a.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    vrng = np.random.default_rng(VAL_SEED)
    mix = list(GENERATORS)
    GENERATORS[:] = DEFAULT_GENERATORS
    val = [make_batch(vrng, tok, 16, L) for L in (128, 512)]
    GENERATORS[:] = mix

    def val_loss():
        with torch.no_grad():
            return float(np.mean([loss_fn(model, *b).item() for b in val]))

    os.makedirs(a.out, exist_ok=True)
    log = {"seed": a.seed, "steps": a.steps, "batch": a.batch, "lr": a.lr, "params": nparam,
           "dims": DIMS, "ctx_mix": a.ctx_mix, "rw_share": a.rw_share, "init_from": a.init_from,
           "first_weight": a.first_weight, "init": a.init, "threads": a.threads,
           "curve": []}
    print(f"params {nparam} ({nparam * 4 / 1e6:.1f} MB f32), steps {a.steps}, batch {a.batch}", flush=True)
    t0 = time.time()
    ema = None
    v0 = val_loss()
    print(f"step 0 val {v0:.4f}", flush=True)
    log["curve"].append({"step": 0, "val": round(v0, 4), "elapsed_s": 0})
    for step in range(a.steps):
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step)
        batch = make_batch(rng, tok, a.batch, ctx_len_for_step(rng, a.ctx_mix))
        loss = loss_fn(model, *batch, first_weight=a.first_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        opt.step()
        li = loss.item()
        ema = li if ema is None else 0.95 * ema + 0.05 * li
        s = step + 1
        if s % a.log_every == 0 or s == a.steps:
            el = time.time() - t0
            print(f"step {s} loss {li:.4f} ema {ema:.4f} lr {lr_at(step):.2e} elapsed {el:.0f}s", flush=True)
            entry = {"step": s, "train_ema": round(ema, 4), "elapsed_s": round(el)}
            if s % a.val_every == 0 or s == a.steps:
                entry["val"] = round(val_loss(), 4)
                print(f"step {s} val {entry['val']:.4f}", flush=True)
            log["curve"].append(entry)
        if s % a.save_every == 0 or s == a.steps:
            save(a.out, cj, params, log, time.time() - t0)
    print(f"done in {time.time() - t0:.0f}s", flush=True)
    return 0


def eval_synthetic(out, n_series, seed):
    """Sanity check on held-out synthetic random walks (NOT the issue-8 USD/CLP
    evaluation, which our C tools do): chronos-style sampling (20 samples,
    top_k 50) from a 256-value context, median forecast MAE relative to the
    random walk (last value) at 1..64 steps, and coverage of the 2.5-97.5 %
    sample band."""
    torch.set_num_threads(1)
    cfg = ref.Cfg(json.load(open(os.path.join(out, "config.json"))))
    model = ref.T5(cfg, ref.safetensors_read(os.path.join(out, "model.safetensors")))
    tok = ref.Tokenizer(cfg)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    hs = [1, 7, 15, 30, 64]
    err_m = {h: [] for h in hs}
    err_rw = {h: [] for h in hs}
    cov = {h: [] for h in hs}
    with torch.no_grad():
        for _ in range(n_series):
            s = random_walk(rng, 256 + PRED).astype(np.float32)
            ctx, fut = torch.from_numpy(s[:256])[None, :], s[256:]
            ids, mask, scale, _ = tok.context_transform(ctx)
            toks, _, _ = ref.generate(model, ids, mask, PRED, num_samples=cfg.num_samples,
                                      temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p, gen=gen)
            vals = tok.output_transform(toks, scale).numpy()  # (S, PRED)
            med = np.sort(vals, axis=0)[(cfg.num_samples - 1) // 2]  # torch's lower median
            lo, hi = np.quantile(vals, 0.025, axis=0), np.quantile(vals, 0.975, axis=0)
            sc = float(scale[0])  # errors relative to each context's mean |value|
            for h in hs:
                err_m[h].append(abs(med[h - 1] - fut[h - 1]) / sc)
                err_rw[h].append(abs(s[255] - fut[h - 1]) / sc)
                cov[h].append(lo[h - 1] <= fut[h - 1] <= hi[h - 1])
    res = {}
    for h in hs:
        res[h] = {"mae_ratio_vs_rw": round(float(np.mean(err_m[h]) / np.mean(err_rw[h])), 3),
                  "coverage_95": round(float(np.mean(cov[h])), 3)}
        print(f"h={h:2d} median MAE / random-walk MAE {res[h]['mae_ratio_vs_rw']:.3f}  "
              f"2.5-97.5% coverage {res[h]['coverage_95']:.3f}", flush=True)
    return res


def save(out, cj, params, log, elapsed):
    w = {k: v.detach().clone() for k, v in params.items()}
    with open(os.path.join(out, "config.json.tmp"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "config.json.tmp"), os.path.join(out, "config.json"))
    ref.safetensors_write(os.path.join(out, "model.safetensors"), w, "F32")
    log["elapsed_s"] = round(elapsed)
    ref.write_json(os.path.join(out, "training-log.json"), log)


if __name__ == "__main__":
    sys.exit(main())
