#!/usr/bin/python3
"""Chronos-Bolt reference in plain PyTorch: random HF-layout checkpoints + golden files.

Usage:
    /usr/bin/python3 scripts/bolt_reference.py --out testdata/bolt
    /usr/bin/python3 scripts/bolt_reference.py --check testdata/bolt/tiny
    /usr/bin/python3 scripts/bolt_reference.py --bench [--context 512] [--reps 5]

Needs only Debian's python3-torch and python3-numpy (no transformers, no
chronos package).  The T5 pieces (RMS norm, attention with relative position
buckets, feed-forward, safetensors by hand) come from scripts/chronos_reference.py.

Written from reading the public source of amazon-science/chronos-forecasting,
src/chronos/chronos_bolt.py (ChronosBoltModelForForecasting and
ChronosBoltPipeline, 2.x), src/chronos/base.py and src/chronos/utils.py; nothing
copied.  What this follows, and where:
  * ChronosBoltConfig: context_length, prediction_length, input_patch_size,
    input_patch_stride, quantiles, use_reg_token (default False).  The model sets
    config.vocab_size to 2 with the [REG] token (id 1), else 1, before building
    the shared embedding; decoder_start_token_id (0) indexes it.
  * InstanceNorm: loc = nan_to_num(nanmean(x), 0); scale = nan_to_num(sqrt(
    nanmean((x - loc)^2)), 1); scale == 0 -> |loc| + 1e-5; (x - loc) / scale.
    Done in float32 (the pipeline passes float32 contexts).
  * Patch: NaN left padding to a multiple of patch_size, then
    unfold(size=patch_size, step=patch_stride).  The mask (isnan -> 0) goes
    through the same patching, NaN padding -> 0; missing values -> 0; the
    embedding input is cat(values, mask) (2 * patch_size); a patch is attended
    when mask.sum() > 0.
  * ResidualBlock: output_layer(act(hidden_layer(x))) + residual_layer(x), all
    nn.Linear with bias, act = ACT2FN[config.dense_act_fn], no layer norm.
  * encode: [REG] embedding appended (mask 1) when use_reg_token; T5Stack
    encoder on inputs_embeds with that attention mask.
  * decode: T5Stack decoder, one token decoder_start_token_id, cross-attention
    over the encoder output with the same mask; last_hidden_state (final norm,
    no d_model^-0.5: that belongs to T5ForConditionalGeneration's lm_head).
  * forward: output_patch_embedding(hidden).view(B, Q, P), then x * scale + loc.
  * ChronosBoltPipeline.predict: context cut to the model's context_length;
    first block; while more steps remain, the context is repeated once per
    quantile level, each level's predicted block appended, cut to
    context_length, forecast as a batch of B*Q, the Q*Q values per step reduced
    with torch.quantile(q=levels, dim=1); blocks concatenated, cut to steps.
  * predict_quantiles: requested levels all among the model's -> those columns;
    else torch.quantile over cat([q_first, q..., q_last]) at the requested
    levels; "mean" is the 0.5 column (the median).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chronos_reference import (ACTS, F32MIN, T5, flist, rms_norm,  # noqa: E402
                               safetensors_read, t5_stack_weights, write_checkpoint, write_json)

LEVELS9 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------

def make_config(d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads,
                patch_size, patch_stride, context_length, prediction_length,
                quantiles=LEVELS9, use_reg_token=True, ffp="relu", nb=32, max_dist=128,
                torch_dtype="float32"):
    """config.json in the key set of the published autogluon/chronos-bolt-* files."""
    parts = ffp.split("-")
    act = "gelu_new" if ffp == "gated-gelu" else parts[-1]
    return {
        "architectures": ["ChronosBoltModelForForecasting"],
        "chronos_config": {
            "context_length": context_length,
            "input_patch_size": patch_size,
            "input_patch_stride": patch_stride,
            "prediction_length": prediction_length,
            "quantiles": quantiles,
            "use_reg_token": use_reg_token,
        },
        "chronos_pipeline_class": "ChronosBoltPipeline",
        "classifier_dropout": 0.0,
        "d_ff": d_ff,
        "d_kv": d_kv,
        "d_model": d_model,
        "decoder_start_token_id": 0,
        "dense_act_fn": act,
        "dropout_rate": 0.1,
        "eos_token_id": 1,
        "feed_forward_proj": ffp,
        "initializer_factor": 0.05,
        "is_encoder_decoder": True,
        "is_gated_act": parts[0] == "gated",
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "n_positions": 512,
        "num_decoder_layers": num_decoder_layers,
        "num_heads": num_heads,
        "num_layers": num_layers,
        "pad_token_id": 0,
        "reg_token_id": 1,
        "relative_attention_max_distance": max_dist,
        "relative_attention_num_buckets": nb,
        "torch_dtype": torch_dtype,
        "transformers_version": "4.39.3",
        "use_cache": True,
        "vocab_size": 2 if use_reg_token else 1,
    }


class BoltCfg:
    """What the forward pass needs, with the attribute names T5 uses."""

    def __init__(self, j):
        self.raw = j
        c = j["chronos_config"]
        self.d_model, self.d_kv, self.d_ff = j["d_model"], j["d_kv"], j["d_ff"]
        self.num_layers = j["num_layers"]
        self.num_decoder_layers = j.get("num_decoder_layers") or j["num_layers"]
        self.num_heads = j["num_heads"]
        self.nb = j.get("relative_attention_num_buckets", 32)
        self.max_dist = j.get("relative_attention_max_distance", 128)
        self.eps = j.get("layer_norm_epsilon", 1e-6)
        ffp = j.get("feed_forward_proj", "relu")
        parts = ffp.split("-")
        act = "gelu_new" if ffp == "gated-gelu" else parts[-1]
        self.act = j.get("dense_act_fn", act)
        self.gated = j.get("is_gated_act", parts[0] == "gated")
        self.tied = True
        self.decoder_start = j.get("decoder_start_token_id", 0)
        self.context_length = c["context_length"]
        self.prediction_length = c["prediction_length"]
        self.patch_size = c["input_patch_size"]
        self.patch_stride = c["input_patch_stride"]
        self.quantiles = list(c["quantiles"])
        self.use_reg = c.get("use_reg_token", False)
        self.vocab_size = 2 if self.use_reg else 1


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------

def instance_norm(x):
    loc = torch.nan_to_num(torch.nanmean(x, dim=-1, keepdim=True), nan=0.0)
    scale = torch.nan_to_num(torch.nanmean((x - loc).square(), dim=-1, keepdim=True).sqrt(), nan=1.0)
    scale = torch.where(scale == 0, torch.abs(loc) + 1e-5, scale)
    return (x - loc) / scale, loc, scale


def patch(x, size, stride):
    n = x.shape[-1]
    if n % size:
        pad = torch.full((*x.shape[:-1], size - n % size), float("nan"), dtype=x.dtype)
        x = torch.cat((pad, x), dim=-1)
    return x.unfold(-1, size, stride)


class Bolt:
    def __init__(self, cfg, w):
        self.cfg = cfg
        self.w = w
        self.t5 = T5(cfg, w)
        self.act = ACTS[cfg.act]

    def resblock(self, pre, x):
        w = self.w
        hid = self.act(F.linear(x, w[pre + ".hidden_layer.weight"], w[pre + ".hidden_layer.bias"]))
        out = F.linear(hid, w[pre + ".output_layer.weight"], w[pre + ".output_layer.bias"])
        return out + F.linear(x, w[pre + ".residual_layer.weight"], w[pre + ".residual_layer.bias"])

    def encode(self, context):
        """context (B, L) float32 with NaN -> encoder output, mask, loc, scale."""
        c = self.cfg
        mask = (~torch.isnan(context)).to(torch.float32)
        if context.shape[-1] > c.context_length:
            context = context[..., -c.context_length:]
            mask = mask[..., -c.context_length:]
        x, loc, scale = instance_norm(context)
        px = patch(x, c.patch_size, c.patch_stride)
        pm = torch.nan_to_num(patch(mask, c.patch_size, c.patch_stride), nan=0.0)
        px = torch.where(pm > 0.0, px, torch.zeros_like(px))
        feats = torch.cat([px, pm], dim=-1)
        att = pm.sum(dim=-1) > 0
        h = self.resblock("input_patch_embedding", feats)
        if c.use_reg:
            reg = self.w["shared.weight"][1].expand(h.shape[0], 1, -1)
            h = torch.cat([h, reg], dim=-2)
            att = torch.cat([att, torch.ones(h.shape[0], 1, dtype=torch.bool)], dim=-1)
        return self.encoder(h, att), att, loc, scale

    def encoder(self, h, att):
        c, t5, w = self.cfg, self.t5, self.w
        L = h.shape[1]
        add = (1.0 - att[:, None, None, :].to(torch.float32)) * F32MIN
        bias = t5.bias(w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
                       L, L, True) + add
        for i in range(c.num_layers):
            p = f"encoder.block.{i}"
            n = rms_norm(h, w[p + ".layer.0.layer_norm.weight"], c.eps)
            h = h + t5.attn(p + ".layer.0.SelfAttention", n, n, bias)
            n = rms_norm(h, w[p + ".layer.1.layer_norm.weight"], c.eps)
            h = h + t5.ff(p + ".layer.1.DenseReluDense", n)
        return rms_norm(h, w["encoder.final_layer_norm.weight"], c.eps)

    def forward(self, context):
        """(B, L) -> quantiles (B, Q, P) in the data's scale, loc, scale."""
        c = self.cfg
        enc, att, loc, scale = self.encode(context)
        ids = torch.full((context.shape[0], 1), c.decoder_start, dtype=torch.long)
        hid = self.t5.decode_full(ids, enc, att, hidden=True)
        q = self.resblock("output_patch_embedding", hid).view(context.shape[0], len(c.quantiles),
                                                               c.prediction_length)
        q = (q.view(q.shape[0], -1) * scale + loc).view(q.shape)
        return q, loc, scale


def left_pad_stack(series):
    n = max(len(s) for s in series)
    return torch.stack([torch.cat((torch.full((n - len(s),), float("nan")), s)) for s in series])


def predict(model, series, steps):
    """ChronosBoltPipeline.predict: (B, Q, steps)."""
    c = model.cfg
    ctx = left_pad_stack([torch.as_tensor(s, dtype=torch.float32) for s in series])
    if ctx.shape[-1] > c.context_length:
        ctx = ctx[..., -c.context_length:]
    pred, _, _ = model.forward(ctx)
    blocks = [pred]
    remaining = steps - pred.shape[-1]
    if remaining > 0:
        ctx = ctx.unsqueeze(1).repeat(1, len(c.quantiles), 1)
    levels = torch.tensor(c.quantiles, dtype=torch.float32)
    while remaining > 0:
        ctx = torch.cat([ctx, pred], dim=-1)[..., -c.context_length:]
        B, Q, L = ctx.shape
        pred, _, _ = model.forward(ctx.reshape(B * Q, L))
        pred = pred.reshape(B, Q * Q, -1)
        pred = torch.quantile(pred, q=levels, dim=1).transpose(0, 1)
        blocks.append(pred)
        remaining -= pred.shape[-1]
    return torch.cat(blocks, dim=-1)[..., :steps]


def predict_quantiles(model, series, steps, levels):
    """ChronosBoltPipeline.predict_quantiles: (B, steps, len(levels)), median."""
    pred = predict(model, series, steps).swapaxes(1, 2)
    own = model.cfg.quantiles
    if set(levels).issubset(set(own)):
        q = pred[..., [own.index(x) for x in levels]]
    else:
        aug = torch.cat([pred[..., [0]], pred, pred[..., [-1]]], dim=-1)
        q = torch.quantile(aug, q=torch.tensor(levels, dtype=aug.dtype), dim=-1).permute(1, 2, 0)
    return q, pred[:, :, own.index(0.5)]


# --------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------

def random_weights(cfg, seed):
    """Random weights with the published tensor names.  Scales after
    ChronosBoltModelForForecasting._init_weights / T5's, enlarged (and biases
    made non-zero) so that attention is not uniform, masks and positions
    matter, and the quantiles come out spread (and sometimes crossing)."""
    g = torch.Generator().manual_seed(seed)
    d, dff = cfg.d_model, cfg.d_ff
    ps, Q, P = cfg.patch_size, len(cfg.quantiles), cfg.prediction_length

    def n(*shape, std):
        return torch.randn(*shape, generator=g) * std

    w = {}

    def resblock(p, i, o, out_std):
        w[p + ".hidden_layer.weight"] = n(dff, i, std=i ** -0.5)
        w[p + ".hidden_layer.bias"] = n(dff, std=0.1)
        w[p + ".output_layer.weight"] = n(o, dff, std=out_std * dff ** -0.5)
        w[p + ".output_layer.bias"] = n(o, std=0.1)
        w[p + ".residual_layer.weight"] = n(o, i, std=out_std * i ** -0.5)
        w[p + ".residual_layer.bias"] = n(o, std=0.1)

    w["shared.weight"] = n(cfg.vocab_size, d, std=1.0)
    resblock("input_patch_embedding", 2 * ps, d, 1.0)
    t5_stack_weights(cfg, n, w, 2.0)
    resblock("output_patch_embedding", d, Q * P, 0.5)
    # a monotone offset per level, so the quantiles are mostly ordered
    off = torch.tensor([(x - 0.5) * 2.0 for x in cfg.quantiles]).repeat_interleave(P)
    w["output_patch_embedding.output_layer.bias"] += off
    return w


MODELS = [
    # name, config kwargs, seed, dtype, steps past the first block
    ("tiny",
     dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
          patch_size=4, patch_stride=4, context_length=64, prediction_length=8),
     5001, "F32", 19),
    ("gated-inner",  # num_heads * d_kv = 60 != d_model = 48; no [REG]; uneven levels
     dict(d_model=48, d_kv=20, d_ff=96, num_layers=3, num_decoder_layers=2, num_heads=3,
          patch_size=8, patch_stride=8, context_length=96, prediction_length=6,
          quantiles=[0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95], use_reg_token=False,
          ffp="gated-gelu", max_dist=32),
     5002, "F32", 14),
    ("bf16-stride",  # overlapping patches (stride < size), bfloat16 weights
     dict(d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=1, num_heads=4,
          patch_size=16, patch_stride=8, context_length=128, prediction_length=16,
          torch_dtype="bfloat16"),
     5003, "BF16", 40),
    ("small-layout",  # bolt-small's context/patch/horizon/levels, narrower layers, float16
     dict(d_model=128, d_kv=32, d_ff=256, num_layers=2, num_decoder_layers=2, num_heads=4,
          patch_size=16, patch_stride=16, context_length=512, prediction_length=64,
          torch_dtype="float16"),
     5004, "F16", 100),
]


def round_to(w, dtype_name):
    if dtype_name == "BF16":
        return {k: v.to(torch.bfloat16).to(torch.float32) for k, v in w.items()}
    if dtype_name == "F16":
        return {k: v.to(torch.float16).to(torch.float32) for k, v in w.items()}
    return w


def contexts(cfg, seed):
    """Named contexts: longer than context_length, a length that is no
    multiple of the patch size with scattered NaN, a wholly missing patch, a
    constant series, a high level with a small spread."""
    rng = np.random.default_rng(seed)
    CL, ps = cfg.context_length, cfg.patch_size
    walk = 100.0 + np.cumsum(rng.normal(0, 1.0, CL + 13))
    short = 20.0 + np.cumsum(rng.normal(0, 0.5, CL // 2 + 3))
    short[[1, 5, len(short) // 2]] = np.nan
    gap = np.sin(np.arange(CL - ps + 1) / 5.0) * 3.0 + rng.normal(0, 0.2, CL - ps + 1)
    gap[ps + 2: 2 * ps + 2] = np.nan  # whole patch(es) missing
    level = 900.0 + np.cumsum(rng.normal(0, 0.3, CL))
    return [("walk", walk), ("short-nan", short), ("gap", gap), ("constant", np.full(ps + 3, 7.5)),
            ("level", level)]


def golden_case(model, name, ctx, steps):
    c = model.cfg
    x = torch.tensor(ctx, dtype=torch.float32)
    first, loc, scale = model.forward(x[None, -c.context_length:] if len(ctx) > c.context_length
                                      else x[None])
    q = predict(model, [x], steps)[0]
    query = [0.025, 0.1, 0.3, 0.5, 0.8, 0.975]
    own_subset = [x for x in c.quantiles if x in (0.1, 0.5, 0.9)] or [0.5]
    qi, med = predict_quantiles(model, [x], steps, query)
    qs, _ = predict_quantiles(model, [x], steps, own_subset)
    return {
        "name": name,
        "context": [None if not math.isfinite(v) else float(v) for v in ctx],
        "steps": steps,
        "loc": flist(loc.reshape(())),
        "scale": flist(scale.reshape(())),
        "first_block": flist(first[0]),
        "quantiles": flist(q),
        "query_levels": query,
        "query_quantiles": flist(qi[0].T),
        "subset_levels": own_subset,
        "subset_quantiles": flist(qs[0].T),
        "median": flist(med[0]),
    }


def generate_all(out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    for name, kw, seed, dtype, steps in MODELS:
        d = os.path.join(out, name)
        cj = make_config(**kw)
        cfg = BoltCfg(cj)
        w2 = write_checkpoint(d, cj, round_to(random_weights(cfg, seed), dtype), dtype)
        model = Bolt(cfg, w2)
        cases = []
        for i, (cname, ctx) in enumerate(contexts(cfg, seed + 7)):
            # every other case rolls out past prediction_length
            st = steps if i % 2 == 0 else cfg.prediction_length
            cases.append(golden_case(model, cname, ctx, st))
        write_json(os.path.join(d, "golden.json"), {
            "format": "chronopt-bolt-golden-1",
            "model": name,
            "weights_dtype": dtype,
            "generator": "scripts/bolt_reference.py (torch %s)" % torch.__version__,
            "cases": cases,
        })
        print(f"{name}: {len(cases)} cases, {os.path.getsize(os.path.join(d, 'model.safetensors'))} "
              f"bytes of weights")


def check(d):
    torch.set_num_threads(1)
    cfg = BoltCfg(json.load(open(os.path.join(d, "config.json"))))
    model = Bolt(cfg, safetensors_read(os.path.join(d, "model.safetensors")))
    g = json.load(open(os.path.join(d, "golden.json")))
    worst = 0.0
    for c in g["cases"]:
        x = torch.tensor([float("nan") if v is None else v for v in c["context"]], dtype=torch.float32)
        q = predict(model, [x], c["steps"])[0]
        ref = torch.tensor(c["quantiles"])
        worst = max(worst, float(((q - ref).abs() / ref.abs().clamp(min=1e-6)).max()))
    print(f"{d}: max relative diff {worst:.3g}")
    return 0 if worst <= 1e-6 else 1


# --------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------

SMALL = dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6, num_heads=8,
             patch_size=16, patch_stride=16, context_length=2048, prediction_length=64)


def bench(context, reps, batch):
    """Per-window time of the bolt-small shape (random weights), 1 thread."""
    torch.set_num_threads(1)
    cfg = BoltCfg(make_config(**SMALL))
    model = Bolt(cfg, random_weights(cfg, 42))
    rng = np.random.default_rng(0)
    ctx = torch.from_numpy((100 + np.cumsum(rng.normal(0, 1, context))).astype(np.float32))
    with torch.no_grad():
        predict(model, [ctx] * batch, cfg.prediction_length)  # warm-up
        t, c = [], []
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            predict(model, [ctx] * batch, cfg.prediction_length)
            t.append(time.perf_counter() - t0)
            c.append(time.process_time() - c0)
    print(f"torch bolt-small context={context} batch={batch} window_ms={min(t) / batch * 1e3:.2f} "
          f"cpu_ms={min(c) / batch * 1e3:.2f} threads={torch.get_num_threads()} torch={torch.__version__}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="write checkpoints and golden files under this directory")
    ap.add_argument("--check", metavar="DIR", help="recompute DIR/golden.json from DIR's checkpoint")
    ap.add_argument("--bench", action="store_true", help="time the PyTorch reference (1 thread)")
    ap.add_argument("--context", type=int, default=512, help="bench context length")
    ap.add_argument("--batch", type=int, default=1, help="bench windows per call")
    ap.add_argument("--reps", type=int, default=5, help="bench repetitions (min is reported)")
    a = ap.parse_args()
    with torch.no_grad():
        if a.bench:
            bench(a.context, a.reps, a.batch)
            return 0
        if a.check:
            return check(a.check)
        if a.out:
            generate_all(a.out)
            return 0
    ap.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
