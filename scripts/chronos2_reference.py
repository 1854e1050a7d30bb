#!/usr/bin/python3
"""Chronos-2 reference in plain PyTorch: random HF-layout checkpoints + golden files.

Usage:
    /usr/bin/python3 scripts/chronos2_reference.py --out testdata/chronos2
    /usr/bin/python3 scripts/chronos2_reference.py --check testdata/chronos2/tiny
    /usr/bin/python3 scripts/chronos2_reference.py --bench [--dims chronos-2] [--reps 3]

Needs only Debian's python3-torch (1.13) and python3-numpy: no transformers, no
einops, no safetensors package (the hand-written reader/writer of
scripts/chronos_reference.py is reused).

Written from reading amazon-science/chronos-forecasting (commit 95185d1),
src/chronos/chronos2/{config,layers,model,pipeline,dataset}.py,
src/chronos/chronos_bolt.py (InstanceNorm, Patch) and src/chronos/utils.py
(interpolate_quantiles, weighted_quantile).  Nothing copied; what the code below
follows, and where:

config.py (Chronos2CoreConfig, Chronos2ForecastingConfig):
  * defaults d_model 512, d_kv 64, d_ff 2048, num_layers 6, num_heads 8,
    layer_norm_epsilon 1e-6, feed_forward_proj "relu", rope_theta 10000;
    dense_act_fn = last part of feed_forward_proj; gated activations asserted
    against.  chronos_config: context_length, output_patch_size,
    input_patch_size, input_patch_stride, quantiles required; use_reg_token,
    use_arcsinh false, max_output_patches 1, time_encoding_scale (model.py sets
    it to context_length when absent).
model.py (Chronos2Model):
  * vocab is 2 with the [REG] token (row 1 of shared.weight, id reg_token_id 1);
    forward asserts the hidden states hold num_context_patches + 1 +
    num_output_patches rows, so the [REG] token is required in practice.
  * _prepare_patched_context: mask = not NaN; keep the last context_length
    values; InstanceNorm (float32); Patch left-pads with NaN to a multiple of the
    patch size and unfolds; values where the mask is 0 become 0; a patch is
    attended when any of its values is observed; time encoding
    arange(-n_patches*p, 0) / time_encoding_scale; features [time, values, mask].
  * input_patch_embedding / output_patch_embedding: ResidualBlock (hidden Linear
    with bias, act, output Linear with bias, plus residual Linear with bias; no
    layer norm).  in_dim 3p -> d_model; d_model -> num_quantiles * p.
  * encode: [context patches, REG, output patches]; output patches get time
    encoding arange(0, n_out*p) / time_encoding_scale with future covariate
    values (instance-normalized with the context's loc/scale, 0 and mask 0 where
    unknown); attention mask 1 for REG and output patches; group_ids default
    arange(batch).
  * Chronos2Encoder: time mask (1 - m) * finfo.min added to scores; group-time
    mask: same group AND key observed at that position; blocks of
    [TimeSelfAttention (RoPE), GroupSelfAttention (over the batch axis, no
    RoPE), FeedForward]; final T5 layer norm.
  * forward: output_patch_embedding of the last n_out rows, "b n (q p) -> b q
    (n p)", InstanceNorm.inverse (sinh when use_arcsinh, * scale + loc).
layers.py:
  * MHA: q, k, v, o Linear without bias; scores q k^T with NO 1/sqrt(d) scaling;
    softmax in float32; RoPE only in time self-attention: inv_freq = 1 /
    theta^(arange(0, d_kv, 2)/d_kv), angle = inv_freq * position (position =
    index in the whole sequence, REG and output patches included), emb =
    cat(freqs, freqs); x*cos + rotate_half(x)*sin with rotate_half(x) =
    cat(-x2, x1).
  * Chronos2LayerNorm: T5 RMS norm (no mean, no bias).  FeedForward: x +
    wo(act(wi(norm(x)))).  Attention sublayers: x + o(attn(norm(x))).
chronos_bolt.py InstanceNorm: loc = nanmean (0 if all NaN), scale =
  sqrt(nanmean((x-loc)^2)) (1 if all NaN), 1e-5 where scale == 0; arcsinh after
  scaling when use_arcsinh.
pipeline.py (Chronos2Pipeline.predict / _predict_batch / _predict_step):
  * the batch is left-padded with NaN to its longest series (dataset.py
    left_pad_and_cat_2D); future covariates are always passed (NaN for targets);
  * n_out = min(ceil(remaining / p), max_output_patches); while steps remain:
    every series is repeated once per unrolled level (default 0.1 .. 0.9, a
    subset of the model's quantiles), group ids g * n_u + u, the unrolled levels
    of the last forecast (interpolate_quantiles) are appended to copy u's
    context, the context keeps its last context_length values, known future
    covariates replace the appended values and slide; the n_u * n_q outputs per
    step are reduced with weighted_quantile to the model's levels, the weights
    being outer(mass(unrolled), mass(model levels)), mass = trapezoidal
    (q_{i+1} - q_{i-1}) / 2 normalized.
  * predict_quantiles: requested levels that are all model levels are picked,
    otherwise interpolate_quantiles (flat beyond the model's range); the point
    forecast is the 0.5 level ("the median is returned as the mean").
utils.py: interpolate_quantiles pads level 0 / 1 with the first / last value,
  searchsorted(right=True), linear interpolation, nan weight -> 0.
  weighted_quantile: sort samples, cumulative normalized weights clamped to
  [0, 1] as levels, then interpolate_quantiles.

The reference runs in float32 (BF16 checkpoints are widened to float32, what
from_pretrained does with its default dtype).
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
from chronos_reference import safetensors_read, flist, f32, write_checkpoint, write_json  # noqa: E402

F32MIN = float(np.finfo(np.float32).min)
DEFAULT_UNROLLED = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
QUANTILES_21 = [0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
                0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99]


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------

class Cfg:
    def __init__(self, j):
        self.d_model = j.get("d_model", 512)
        self.d_kv = j.get("d_kv", 64)
        self.d_ff = j.get("d_ff", 2048)
        self.num_layers = j.get("num_layers", 6)
        self.num_heads = j.get("num_heads", 8)
        self.eps = j.get("layer_norm_epsilon", 1e-6)
        self.rope_theta = j.get("rope_theta", 10000.0)
        ffp = j.get("feed_forward_proj", "relu")
        self.act = j.get("dense_act_fn", ffp.split("-")[-1])
        assert ffp.split("-")[0] != "gated"
        cc = j["chronos_config"]
        self.context_length = cc["context_length"]
        self.patch = cc["input_patch_size"]
        assert cc["output_patch_size"] == self.patch and cc["input_patch_stride"] == self.patch
        self.quantiles = list(cc["quantiles"])
        self.use_reg_token = cc.get("use_reg_token", False)
        assert self.use_reg_token
        self.use_arcsinh = cc.get("use_arcsinh", False)
        self.max_output_patches = cc.get("max_output_patches", 1)
        self.tes = cc.get("time_encoding_scale", self.context_length)
        self.inner = self.num_heads * self.d_kv


def act_fn(name):
    if name == "relu":
        return torch.relu
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "gelu":
        return torch.nn.functional.gelu
    if name in ("silu", "swish"):
        return torch.nn.functional.silu
    raise ValueError(name)


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------

def rms(x, w, eps):
    var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def lin(x, w, b=None):
    y = x @ w.t()
    return y + b if b is not None else y


def instance_norm(x, loc_scale=None, use_arcsinh=False, eps=1e-5):
    x = x.to(torch.float32)
    if loc_scale is None:
        loc = torch.nan_to_num(torch.nanmean(x, dim=-1, keepdim=True), nan=0.0)
        scale = torch.nan_to_num((x - loc).square().nanmean(dim=-1, keepdim=True).sqrt(), nan=1.0)
        scale = torch.where(scale == 0, torch.full_like(scale, eps), scale)
    else:
        loc, scale = loc_scale
    y = (x - loc) / scale
    if use_arcsinh:
        y = torch.asinh(y)
    return y, (loc, scale)


def patchify(x, p):
    n = x.shape[-1]
    if n % p:
        pad = torch.full((*x.shape[:-1], p - n % p), float("nan"), dtype=x.dtype)
        x = torch.cat([pad, x], dim=-1)
    return x.unfold(-1, p, p)


class Chronos2:
    def __init__(self, cfg, w):
        self.c = cfg
        self.w = w
        self.act = act_fn(cfg.act)
        half = torch.arange(0, cfg.d_kv, 2, dtype=torch.int64).to(torch.float32) / cfg.d_kv
        self.inv_freq = 1.0 / (cfg.rope_theta ** half)

    def resblock(self, pre, x):
        w = self.w
        h = self.act(lin(x, w[pre + ".hidden_layer.weight"], w[pre + ".hidden_layer.bias"]))
        out = lin(h, w[pre + ".output_layer.weight"], w[pre + ".output_layer.bias"])
        return out + lin(x, w[pre + ".residual_layer.weight"], w[pre + ".residual_layer.bias"])

    def mha(self, pre, x, mask, pos=None):
        # x: (B, S, d); mask additive, broadcastable to (B, H, S, S)
        c, w = self.c, self.w
        B, S, _ = x.shape

        def heads(t):
            return t.reshape(B, S, c.num_heads, c.d_kv).transpose(1, 2)

        q = heads(lin(x, w[pre + ".q.weight"]))
        k = heads(lin(x, w[pre + ".k.weight"]))
        v = heads(lin(x, w[pre + ".v.weight"]))
        if pos is not None:
            freqs = self.inv_freq[:, None].float() @ pos[None, :].float()  # (d/2, S)
            emb = torch.cat([freqs.t(), freqs.t()], dim=-1)  # (S, d)
            cos, sin = emb.cos(), emb.sin()

            def rot(t):
                h = t.shape[-1] // 2
                return torch.cat([-t[..., h:], t[..., :h]], dim=-1)

            q = q * cos + rot(q) * sin
            k = k * cos + rot(k) * sin
        s = q @ k.transpose(3, 2)
        s = s + mask
        a = torch.softmax(s.float(), dim=-1).type_as(s)
        o = (a @ v).transpose(1, 2).reshape(B, S, c.inner)
        return lin(o, w[pre + ".o.weight"])

    def forward(self, context, group_ids=None, future_covariates=None, num_output_patches=1):
        c, w = self.c, self.w
        B = context.shape[0]
        p = c.patch
        mask = (~torch.isnan(context)).to(torch.float32)
        if context.shape[-1] > c.context_length:
            context = context[..., -c.context_length:]
            mask = mask[..., -c.context_length:]
        ctx, loc_scale = instance_norm(context, use_arcsinh=c.use_arcsinh)
        pc = patchify(ctx, p)
        pm = torch.nan_to_num(patchify(mask, p), nan=0.0)
        pc = torch.where(pm > 0, pc, torch.zeros_like(pc))
        att = (pm.sum(-1) > 0).to(torch.float32)
        ncp = att.shape[-1]
        tenc = (torch.arange(-ncp * p, 0, dtype=torch.float32).reshape(ncp, p) / c.tes).expand(B, ncp, p)
        x = self.resblock("input_patch_embedding", torch.cat([tenc, pc, pm], dim=-1))
        reg = w["shared.weight"][1].expand(B, 1, c.d_model)
        x = torch.cat([x, reg], dim=1)
        att = torch.cat([att, torch.ones(B, 1)], dim=-1)
        n = num_output_patches
        if future_covariates is not None:
            fc, _ = instance_norm(future_covariates, loc_scale, use_arcsinh=c.use_arcsinh)
            fm = (~torch.isnan(fc)).to(torch.float32)
            fc = torch.where(fm > 0, fc, torch.zeros_like(fc))
            if n * p > fc.shape[-1]:
                padn = n * p - fc.shape[-1]
                fc = torch.cat([fc, torch.zeros(B, padn)], dim=-1)
                fm = torch.cat([fm, torch.zeros(B, padn)], dim=-1)
            fc = fc.reshape(B, n, p)
            fm = fm.reshape(B, n, p)
        else:
            fc = torch.zeros(B, n, p)
            fm = torch.zeros(B, n, p)
        fenc = (torch.arange(0, n * p, dtype=torch.float32).reshape(n, p) / c.tes).expand(B, n, p)
        x = torch.cat([x, self.resblock("input_patch_embedding", torch.cat([fenc, fc, fm], dim=-1))], dim=1)
        att = torch.cat([att, torch.ones(B, n)], dim=-1)
        if group_ids is None:
            group_ids = torch.arange(B)
        S = x.shape[1]
        pos = torch.arange(S)
        tmask = ((1.0 - att) * F32MIN)[:, None, None, :]
        gmask = (group_ids[:, None] == group_ids[None, :]).to(torch.float32)
        gtm = torch.einsum("qb,bt->qbt", gmask, att)  # (B, B, S)
        gtm = ((1.0 - gtm.permute(2, 0, 1)) * F32MIN)[:, None]  # (S, 1, B, B)
        for i in range(c.num_layers):
            pre = f"encoder.block.{i}.layer"
            x = x + self.mha(pre + ".0.self_attention", rms(x, w[pre + ".0.layer_norm.weight"], c.eps), tmask, pos)
            xt = x.transpose(0, 1)  # (S, B, d)
            xt = xt + self.mha(pre + ".1.self_attention", rms(xt, w[pre + ".1.layer_norm.weight"], c.eps), gtm)
            x = xt.transpose(0, 1)
            h = rms(x, w[pre + ".2.layer_norm.weight"], c.eps)
            x = x + lin(self.act(lin(h, w[pre + ".2.mlp.wi.weight"])), w[pre + ".2.mlp.wo.weight"])
        x = rms(x, w["encoder.final_layer_norm.weight"], c.eps)
        y = self.resblock("output_patch_embedding", x[:, -n:])  # (B, n, Q*p)
        Q = len(c.quantiles)
        y = y.reshape(B, n, Q, p).permute(0, 2, 1, 3).reshape(B, Q, n * p)
        loc, scale = loc_scale
        if c.use_arcsinh:
            y = torch.sinh(y)
        return y * scale[:, :, None] + loc[:, :, None]


# --------------------------------------------------------------------------
# pipeline
# --------------------------------------------------------------------------

def interpolate_quantiles(query, levels, values):
    """values (..., L) at levels (L,) or (..., L); query (Q,) -> (..., Q)."""
    query = torch.as_tensor(query, dtype=torch.float32)
    levels = torch.as_tensor(levels, dtype=torch.float32)
    shp = values.shape
    L = levels.shape[-1]
    values = values.to(torch.float32).reshape(-1, L)
    nb = values.shape[0]
    lv = levels.expand(nb, -1) if levels.ndim == 1 else levels.reshape(-1, L)
    lv, idx = torch.sort(lv, dim=-1)
    vv = torch.gather(values, 1, idx)
    parts_l, parts_v = [], []
    if levels.min() > 0.0:
        parts_l.append(torch.zeros(nb, 1))
        parts_v.append(vv[:, :1])
    parts_l.append(lv)
    parts_v.append(vv)
    if levels.max() < 1.0:
        parts_l.append(torch.ones(nb, 1))
        parts_v.append(vv[:, -1:])
    lv = torch.cat(parts_l, -1).contiguous()
    vv = torch.cat(parts_v, -1)
    qe = query.expand(nb, -1).contiguous()
    up = torch.clamp(torch.searchsorted(lv, qe, right=True), max=lv.shape[-1] - 1)
    lo = up - 1
    l0, l1 = torch.gather(lv, 1, lo), torch.gather(lv, 1, up)
    v0, v1 = torch.gather(vv, 1, lo), torch.gather(vv, 1, up)
    wgt = torch.nan_to_num((qe - l0) / (l1 - l0), nan=0.0)
    return (v0 + wgt * (v1 - v0)).reshape(*shp[:-1], len(query))


def weighted_quantile(query, weights, samples):
    weights = torch.as_tensor(weights, dtype=torch.float32)
    shp = samples.shape
    ns = len(weights)
    s = samples.to(torch.float32).reshape(-1, ns)
    w = (weights / weights.sum()).expand(s.shape[0], -1).contiguous()
    ss, idx = torch.sort(s, dim=-1)
    cw = torch.clamp(torch.cumsum(torch.gather(w, 1, idx), dim=-1), 0.0, 1.0)
    return interpolate_quantiles(query, cw, ss).reshape(*shp[:-1], len(query))


def tie_allowance(samples, weights, query, close=1e-4):
    """For each row of samples (B, h, n): how far weighted_quantile's result
    could move (relative to max(|value|, 1), worst query level, summed over
    pairs) if two neighbours of the sorted samples that are within `close`
    (relative) of each other and carry different weights swapped order.
    weighted_quantile is discontinuous at such swaps: a rounding-level change
    in the samples (any other implementation's float32) may move the result by
    this much, so it is the golden's allowance for that step."""
    B, h, n = samples.shape
    w = weights / weights.sum()
    out = torch.zeros(B, h)
    for b in range(B):
        for t in range(h):
            ss, idx = torch.sort(samples[b, t].to(torch.float32))
            ww = w[idx]
            base = interpolate_quantiles(query, torch.clamp(torch.cumsum(ww, 0), 0.0, 1.0), ss)
            den = base.abs().clamp(min=1.0)
            gap = (ss[1:] - ss[:-1]).abs() / ss[:-1].abs().clamp(min=1.0)
            for j in torch.nonzero((gap < close) & (ww[1:] != ww[:-1])).flatten().tolist():
                w2 = ww.clone()
                w2[j], w2[j + 1] = ww[j + 1], ww[j]
                alt = interpolate_quantiles(query, torch.clamp(torch.cumsum(w2, 0), 0.0, 1.0), ss)
                out[b, t] += float(((alt - base).abs() / den).max())
    return out


def prob_mass(levels):
    b = torch.cat([torch.tensor([0.0]), torch.as_tensor(levels, dtype=torch.float32), torch.tensor([1.0])])
    m = (b[2:] - b[:-2]) / 2
    return m / m.sum()


def left_pad(rows):
    n = max(len(r) for r in rows)
    return torch.stack([torch.cat([torch.full((n - len(r),), float("nan")), torch.as_tensor(r, dtype=torch.float32)])
                        for r in rows])


def predict(model, contexts, horizon, group_ids=None, futures=None, max_output_patches=None,
            unrolled=DEFAULT_UNROLLED, first=False, gaps=None):
    """Chronos2Pipeline._predict_batch for one batch: (B, Q, horizon); with
    first=True also the first forward pass's raw output (B, Q, n_out * p)."""
    c = model.c
    p = c.patch
    B = len(contexts)
    ctx = left_pad([r[-c.context_length:] for r in contexts])  # dataset keeps the last context_length
    gid = torch.arange(B) if group_ids is None else torch.as_tensor(group_ids)
    fut = torch.full((B, horizon), float("nan"))
    if futures is not None:
        for i, f in enumerate(futures):
            if f is not None:
                fut[i, :len(f)] = torch.as_tensor(f, dtype=torch.float32)
    mop = max_output_patches or c.max_output_patches

    def nout(rem):
        return min(math.ceil(rem / p), mop)

    def step(cx, fc, g, n):
        size = n * p
        if size > fc.shape[1]:
            fc = torch.cat([fc, torch.full((fc.shape[0], size - fc.shape[1]), float("nan"))], dim=1)
        else:
            fc = fc[:, :size]
        return model.forward(cx, g, fc, n)

    preds = []
    rem = horizon
    pred = step(ctx, fut, gid, nout(rem))
    first_out = pred
    preds.append(pred)
    rem -= pred.shape[-1]
    if rem > 0:
        U = len(unrolled)
        ctx = ctx[:, None, :].expand(B, U, ctx.shape[-1]).clone()
        fut = fut[:, None, :].expand(B, U, fut.shape[-1]).clone()
        gid = gid[:, None] * U + torch.arange(U)[None, :]
        wts = torch.outer(prob_mass(unrolled), prob_mass(c.quantiles))
    while rem > 0:
        un = interpolate_quantiles(unrolled, c.quantiles, pred.permute(0, 2, 1))  # (B, h, U)
        ctx = torch.cat([ctx, un.permute(0, 2, 1)], dim=-1)[..., -c.context_length:]
        k = pred.shape[-1]
        fs = fut[..., :k]
        ctx[..., -k:] = torch.where(torch.isnan(fs), ctx[..., -k:], fs)
        fut = fut[..., k:]
        out = step(ctx.reshape(B * U, -1), fut.reshape(B * U, -1), gid.reshape(-1), nout(rem))
        Q = len(c.quantiles)
        h = out.shape[-1]
        out = out.reshape(B, U * Q, h).permute(0, 2, 1)  # (B, h, U*Q)
        pred = weighted_quantile(c.quantiles, wts.reshape(-1), out).permute(0, 2, 1)
        if gaps is not None:
            gaps.append(tie_allowance(out, wts.reshape(-1), c.quantiles))
        preds.append(pred)
        rem -= h
    res = torch.cat(preds, dim=-1)[..., :horizon]
    return (res, first_out) if first else res


def quantiles_at(model, pred, levels):
    """predict_quantiles for one series: pred (Q, H) -> (len(levels), H)."""
    ql = model.c.quantiles
    if set(levels).issubset(ql):
        return pred[[ql.index(q) for q in levels]]
    return interpolate_quantiles(levels, ql, pred.t()).t()


# --------------------------------------------------------------------------
# random checkpoints
# --------------------------------------------------------------------------

def make_config(d_model, d_kv, d_ff, num_layers, num_heads, context_length, patch, max_output_patches,
                quantiles=QUANTILES_21, act=None, ffp="relu", use_arcsinh=True, tes=None,
                torch_dtype="float32", rope_theta=10000.0):
    cc = {"context_length": context_length, "input_patch_size": patch, "input_patch_stride": patch,
          "max_output_patches": max_output_patches, "output_patch_size": patch, "quantiles": quantiles,
          "use_arcsinh": use_arcsinh, "use_reg_token": True}
    if tes is not None:
        cc["time_encoding_scale"] = tes
    j = {"architectures": ["Chronos2Model"], "chronos_config": cc, "chronos_pipeline_class": "Chronos2Pipeline",
         "d_ff": d_ff, "d_kv": d_kv, "d_model": d_model, "dropout_rate": 0.1, "feed_forward_proj": ffp,
         "initializer_factor": 0.05, "is_gated_act": False, "layer_norm_epsilon": 1e-06, "model_type": "t5",
         "num_heads": num_heads, "num_layers": num_layers, "pad_token_id": 0, "reg_token_id": 1,
         "rope_theta": rope_theta, "torch_dtype": torch_dtype, "vocab_size": 2}
    if act is not None:
        j["dense_act_fn"] = act
    return j


def tensor_shapes(cfg):
    d, ff, inner, p, Q = cfg.d_model, cfg.d_ff, cfg.inner, cfg.patch, len(cfg.quantiles)
    t = {"shared.weight": (2, d), "encoder.final_layer_norm.weight": (d,)}
    for pre, i, o in (("input_patch_embedding", 3 * p, d), ("output_patch_embedding", d, Q * p)):
        t[pre + ".hidden_layer.weight"] = (ff, i)
        t[pre + ".hidden_layer.bias"] = (ff,)
        t[pre + ".output_layer.weight"] = (o, ff)
        t[pre + ".output_layer.bias"] = (o,)
        t[pre + ".residual_layer.weight"] = (o, i)
        t[pre + ".residual_layer.bias"] = (o,)
    for b in range(cfg.num_layers):
        for s in (0, 1):
            pre = f"encoder.block.{b}.layer.{s}"
            t[pre + ".layer_norm.weight"] = (d,)
            for m in "qkv":
                t[f"{pre}.self_attention.{m}.weight"] = (inner, d)
            t[pre + ".self_attention.o.weight"] = (d, inner)
        t[f"encoder.block.{b}.layer.2.layer_norm.weight"] = (d,)
        t[f"encoder.block.{b}.layer.2.mlp.wi.weight"] = (ff, d)
        t[f"encoder.block.{b}.layer.2.mlp.wo.weight"] = (d, ff)
    return t


def random_weights(cfg, seed):
    """Scales after Chronos2Model._init_weights, with q and o enlarged so that
    attention is far from uniform and positions matter, norms near 1, biases
    non-zero so that every bias is exercised."""
    g = torch.Generator().manual_seed(seed)
    d, dk, H, ff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    w = {}
    for name, shape in tensor_shapes(cfg).items():
        if name.endswith("layer_norm.weight"):
            w[name] = 1.0 + 0.2 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            w[name] = 0.1 * torch.randn(shape, generator=g)
        elif name == "shared.weight":
            w[name] = torch.randn(shape, generator=g)
        elif ".self_attention.q." in name:
            w[name] = torch.randn(shape, generator=g) * (3.0 * (d * dk) ** -0.5)
        elif ".self_attention.o." in name:
            w[name] = torch.randn(shape, generator=g) * (H * dk) ** -0.5
        elif ".self_attention." in name:
            w[name] = torch.randn(shape, generator=g) * d ** -0.5
        elif ".mlp.wi." in name:
            w[name] = torch.randn(shape, generator=g) * d ** -0.5
        elif ".mlp.wo." in name:
            w[name] = torch.randn(shape, generator=g) * ff ** -0.5
        else:  # residual blocks: std = fan_in^-0.5
            w[name] = torch.randn(shape, generator=g) * shape[-1] ** -0.5
    return w


def round_to(w, dtype):
    if dtype == "BF16":
        return {k: v.to(torch.bfloat16).to(torch.float32) for k, v in w.items()}
    if dtype == "F16":
        return {k: v.to(torch.float16).to(torch.float32) for k, v in w.items()}
    return w


MODELS = [
    # name, config kwargs, seed, dtype
    ("tiny", dict(d_model=16, d_kv=4, d_ff=32, num_layers=2, num_heads=4, context_length=32, patch=4,
                  max_output_patches=4), 501, "F32"),
    ("heads", dict(d_model=24, d_kv=8, d_ff=40, num_layers=2, num_heads=4, context_length=48, patch=8,
                   max_output_patches=2, use_arcsinh=False, tes=64, act="gelu_new",
                   quantiles=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), 502, "F32"),
    ("bf16", dict(d_model=32, d_kv=8, d_ff=64, num_layers=3, num_heads=3, context_length=64, patch=16,
                  max_output_patches=2, torch_dtype="bfloat16"), 503, "BF16"),
    ("f16", dict(d_model=12, d_kv=6, d_ff=20, num_layers=1, num_heads=2, context_length=40, patch=5,
                 max_output_patches=3, rope_theta=500.0, torch_dtype="float16"), 504, "F16"),
]


# --------------------------------------------------------------------------
# golden files
# --------------------------------------------------------------------------

def walk(rng, n, start=100.0, vol=1.0):
    return (start + np.cumsum(rng.normal(0, vol, n))).astype(np.float32)


def vlist(a):
    return [None if not math.isfinite(float(v)) else f32(v) for v in np.asarray(a, np.float32)]


def golden_cases(model, seed):
    c = model.c
    rng = np.random.default_rng(seed)
    CL, p, mop = c.context_length, c.patch, c.max_output_patches
    one = p * mop  # the model's own prediction length
    cases = []

    def add(name, series, horizon, groups=None, futures=None, levels=None):
        ctxs = [np.asarray(s, np.float32) for s in series]
        gaps = []
        pred, fwd = predict(model, [torch.from_numpy(s) for s in ctxs], horizon, groups, futures, first=True,
                            gaps=gaps)
        n1 = fwd.shape[-1] // p
        # per series and step: tie_allowance of the reduction (0 where no
        # reduction happens: the first forward pass)
        B = len(ctxs)
        tie = torch.zeros(B, n1 * p)
        if gaps:
            tie = torch.cat([tie] + gaps, dim=-1)
        tie = tie[:, :horizon]
        case = {"name": name, "horizon": horizon,
                "series": [vlist(s) for s in ctxs],
                "groups": list(groups) if groups is not None else list(range(len(ctxs))),
                "futures": [vlist(f) if f is not None else None for f in futures] if futures else None,
                "quantiles": [flist(pred[i]) for i in range(len(ctxs))],
                "tie_allowance": [flist(tie[i]) for i in range(len(ctxs))]}
        case["forward_patches"] = n1
        case["forward"] = [flist(fwd[i]) for i in range(len(ctxs))]
        if levels is not None:
            case["levels"] = levels
            case["at_levels"] = [flist(quantiles_at(model, pred[i], levels)) for i in range(len(ctxs))]
        cases.append(case)

    base = walk(rng, CL, 900.0, 5.0)
    add("single", [base], one, levels=[0.1, 0.5, 0.9])
    add("rollout", [base], 2 * one + p // 2 + 1, levels=[0.025, 0.1, 0.33, 0.5, 0.975])
    short = walk(rng, max(3, CL // 3 + 1), -4.0, 0.3)
    longer = walk(rng, CL + 2 * p + 3, 10.0, 2.0)
    add("batch", [short, base, longer], one + 1)
    gaps = walk(rng, CL, 50.0, 1.0)
    gaps[:p + 1] = np.nan                     # a fully missing patch and a partial one
    gaps[CL // 2:CL // 2 + 3] = np.nan
    gaps[-1] = np.nan
    add("nan", [gaps], p + 1)
    add("constant", [np.full(CL // 2, 7.25, np.float32)], p)
    add("all-nan", [np.full(p + 2, np.nan, np.float32)], p)
    tgt = walk(rng, CL - 3, 20.0, 1.0)
    past_cov = walk(rng, CL - 3, 0.0, 1.0)
    fut_cov_hist = walk(rng, CL - 3, 5.0, 0.5)
    fut_cov = walk(rng, 2 * one, float(fut_cov_hist[-1]), 0.5)
    fut_cov[2] = np.nan
    other = walk(rng, CL // 2, 300.0, 3.0)
    add("covariates", [tgt, past_cov, fut_cov_hist, other], 2 * one,
        groups=[7, 7, 7, 3], futures=[None, None, fut_cov, None])
    return cases


def generate_all(out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    for name, kw, seed, dtype in MODELS:
        d = os.path.join(out, name)
        cj = make_config(**kw)
        cfg = Cfg(cj)
        w2 = write_checkpoint(d, cj, round_to(random_weights(cfg, seed), dtype), dtype)
        model = Chronos2(cfg, w2)
        cases = golden_cases(model, seed + 7)
        golden = {"format": "chronopt-chronos2-golden-1", "model": name, "weights_dtype": dtype,
                  "generator": "scripts/chronos2_reference.py (torch %s)" % torch.__version__,
                  "unrolled": DEFAULT_UNROLLED, "cases": cases}
        write_json(os.path.join(d, "golden.json"), golden)
        print(f"{name}: {len(cases)} cases, {os.path.getsize(os.path.join(d, 'golden.json'))} bytes golden, "
              f"{os.path.getsize(os.path.join(d, 'model.safetensors'))} bytes weights")


def check(d):
    torch.set_num_threads(1)
    cfg = Cfg(json.load(open(os.path.join(d, "config.json"))))
    model = Chronos2(cfg, safetensors_read(os.path.join(d, "model.safetensors")))
    g = json.load(open(os.path.join(d, "golden.json")))
    worst = 0.0
    for c in g["cases"]:
        ctxs = [torch.tensor([float("nan") if v is None else v for v in s]) for s in c["series"]]
        fut = None
        if c["futures"]:
            fut = [None if f is None else [float("nan") if v is None else v for v in f] for f in c["futures"]]
        pred = predict(model, ctxs, c["horizon"], c["groups"], fut)
        ref = torch.tensor(c["quantiles"])
        worst = max(worst, float(((pred - ref).abs() / ref.abs().clamp(min=1e-3)).max()))
    print(f"{d}: max rel diff {worst:.3g}")
    return 0 if worst <= 1e-5 else 1


# --------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------

BENCH_DIMS = {
    # amazon/chronos-2 as published (120M parameters)
    "chronos-2": dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12, context_length=8192,
                      patch=16, max_output_patches=64),
    "small": dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8, context_length=8192,
                  patch=16, max_output_patches=64),
}


def bench(dims, reps, context, horizon):
    torch.set_num_threads(1)
    for dname in dims:
        cfg = Cfg(make_config(**BENCH_DIMS[dname]))
        model = Chronos2(cfg, random_weights(cfg, 42))
        rng = np.random.default_rng(0)
        ctx = torch.from_numpy(walk(rng, context, 100.0, 1.0))
        with torch.no_grad():
            predict(model, [ctx], horizon)  # warm-up
            ts, cs = [], []
            for _ in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                predict(model, [ctx], horizon)
                ts.append(time.perf_counter() - t0)
                cs.append(time.process_time() - c0)
        print(f"torch chronos2 dims={dname} context={context} horizon={horizon} batch=1 "
              f"window_ms={min(ts) * 1e3:.1f} cpu_ms={min(cs) * 1e3:.1f} threads={torch.get_num_threads()} "
              f"torch={torch.__version__}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="write checkpoints and golden files under this directory")
    ap.add_argument("--check", metavar="DIR", help="recompute DIR/golden.json from DIR's checkpoint")
    ap.add_argument("--bench", action="store_true", help="time the PyTorch reference (1 thread)")
    ap.add_argument("--dims", default="chronos-2", help="bench dims: comma list of chronos-2,small")
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--horizon", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3, help="bench repetitions (min is reported)")
    a = ap.parse_args()
    with torch.no_grad():
        if a.bench:
            bench(a.dims.split(","), a.reps, a.context, a.horizon)
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
