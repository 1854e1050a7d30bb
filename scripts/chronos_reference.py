#!/usr/bin/python3
"""Chronos-T5 reference in plain PyTorch: random HF-layout checkpoints + golden files.

Usage:
    /usr/bin/python3 scripts/chronos_reference.py --out testdata/chronos
    /usr/bin/python3 scripts/chronos_reference.py --bench [--dims small] [--samples 20]
    /usr/bin/python3 scripts/chronos_reference.py --check testdata/chronos/relu-tied

Needs only Debian's python3-torch (1.13) and python3-numpy.  No transformers, no
safetensors package: safetensors files are written and read by hand.

The T5 and Chronos semantics below were written from reading the public sources
(nothing copied).  What was verified, and where:

Hugging Face transformers, src/transformers/models/t5/modeling_t5.py:
  * T5LayerNorm.forward: variance = mean(x.float()^2) over the last axis, no mean
    subtraction, no bias, x * rsqrt(var + eps) then times the weight.
  * T5Attention._relative_position_bucket: relative_position = key_pos - query_pos;
    bidirectional (encoder): half the buckets per sign, +num_buckets/2 when the
    position is > 0, then |rel|; causal (decoder): rel = -min(rel, 0), so future
    keys map to bucket 0 (and are masked anyway).  max_exact = nb/2 exact buckets,
    then max_exact + trunc(log(rel/max_exact)/log(max_distance/max_exact) *
    (nb - max_exact)), computed in float32 and clamped to nb - 1.
  * T5Attention.compute_bias / T5Stack.forward: only block 0 has
    relative_attention_bias ("has_relative_attention_bias=bool(i == 0)"); the bias
    (plus the additive mask) is returned by layer 0 and passed to every later layer.
    The decoder's cross-attention has no position bias (zeros) but gets the encoder
    padding mask.  The decoder rows for cached steps are the last rows of
    compute_bias(real_seq_length, key_length).
  * T5Attention.forward: scores = q @ k^T with NO 1/sqrt(d_kv) scaling (the scaling
    is folded into the q initialisation), scores += position_bias(+mask), softmax
    in float32, then o-projection of the concatenated heads; inner_dim =
    num_heads * d_kv, which need not equal d_model.
  * T5Stack.forward / _prepare_4d_causal_attention_mask_with_cache_position and
    ModuleUtilsMixin.invert_attention_mask: masked positions get
    torch.finfo(float32).min added (the most negative finite float, -3.4028235e38),
    not -inf.  A fully masked row therefore gives a uniform softmax, not NaN.
  * T5DenseActDense / T5DenseGatedActDense / T5LayerFF: pre-norm residual
    x + wo(act(wi(rms(x)))) or x + wo(act(wi_0(rms(x))) * wi_1(rms(x))).
  * T5ForConditionalGeneration.forward: if config.tie_word_embeddings the decoder
    output is multiplied by d_model**-0.5 before lm_head; _tied_weights_keys lists
    encoder.embed_tokens.weight, decoder.embed_tokens.weight and lm_head.weight, so
    with tying the head IS shared.weight and a stored lm_head.weight is ignored.
    Both stacks use self.shared as embed_tokens.
  * T5PreTrainedModel._init_weights: the init scales used below for random weights.
Hugging Face transformers, src/transformers/models/t5/configuration_t5.py
(T5Config.__init__) and src/transformers/configuration_utils.py
(PretrainedConfig.__init__):
  * tie_word_embeddings = kwargs.pop("tie_word_embeddings", True): default true.
  * num_decoder_layers defaults to num_layers.
  * dense_act_fn = feed_forward_proj.split("-")[-1], is_gated_act = first part is
    "gated", and "gated-gelu" maps to dense_act_fn "gelu_new".  These are set
    before PretrainedConfig.__init__ runs "for key, value in kwargs.items():
    setattr(self, key, value)", so explicit dense_act_fn / is_gated_act keys in
    config.json override what feed_forward_proj implies (transformers 4.x).
  * activations.py NewGELUActivation ("gelu_new"): 0.5 x (1 + tanh(sqrt(2/pi)
    (x + 0.044715 x^3))), the tanh approximation.
Hugging Face transformers, modeling_utils.py (save_pretrained /
_remove_tied_weights style de-aliasing): for the alias group {shared,
encoder.embed_tokens, decoder.embed_tokens, lm_head} every name matching
_tied_weights_keys is dropped except one, so a current save_pretrained writes only
shared.weight for a tied T5.  Older files differ: chronos-forecasting's own
test/dummy-chronos-model/model.safetensors (transformers 4.31) holds shared.weight,
encoder.embed_tokens.weight and decoder.embed_tokens.weight and no lm_head.weight.
Our checkpoints cover both layouts (see make_models()).
Hugging Face transformers, src/transformers/generation/utils.py
(GenerationMixin._get_logits_processor) and generation/logits_process.py:
  * MinNewTokensLengthLogitsProcessor is added whenever min_new_tokens > 0 and an
    eos id is set; it sets the EOS logit to -inf while fewer than min_new_tokens
    were generated.  Chronos passes min_new_tokens = max_new_tokens, so EOS is
    suppressed at every step (also for use_eos_token false: eos_token_id is always
    passed).  PAD is never suppressed.
  * Then, only with do_sample: TemperatureLogitsWarper (if temperature != 1),
    TopKLogitsWarper (if top_k != 0; keeps scores >= the k-th largest, others
    -inf), TopPLogitsWarper (if top_p < 1; ascending sort, softmax, cumsum, remove
    cumulative <= 1 - top_p, always keep the largest), in that order; then
    softmax and torch.multinomial.
  * The decoder starts from decoder_start_token_id (config: 0 = PAD); chronos'
    GenerationConfig does not set it, so the model config's value is used.
amazon-science/chronos-forecasting, src/chronos/chronos.py (commit e48f480):
  * MeanScaleUniformBins.__init__: centers = torch.linspace(low, high,
    n_tokens - n_special_tokens - 1) in float32; boundaries = [-1e20,
    (c[1:] + c[:-1]) / 2, 1e20], float32.
  * _input_transform: context.to(float32); attention_mask = ~isnan; scale =
    nansum(|x| * mask) / nansum(mask); scale[~(scale > 0)] = 1 (zero, or NaN for
    an all-NaN context); token = bucketize(x / scale, boundaries, right=True) +
    n_special_tokens (bin k is boundaries[k-1] <= x < boundaries[k]), clamped to
    [0, n_tokens - 1]; NaN positions -> pad_token_id with mask false.
  * context_input_transform: truncate to the LAST context_length values first,
    then scale; EOS (mask true) appended only when use_eos_token and model_type
    is seq2seq.
  * output_transform: centers[clamp(token - n_special_tokens - 1, 0,
    n_centers - 1)] * scale.  So PAD/EOS decode to centers[0] * scale.
  * ChronosModel.forward: generate(min_new_tokens = max_new_tokens =
    prediction_length, do_sample=True, num_return_sequences=num_samples,
    eos/pad ids, temperature, top_k, top_p); preds[..., 1:] drops the decoder
    start token.
  * ChronosPipeline.predict: while remaining > 0: context_input_transform on the
    (growing) context, generate min(remaining, prediction_length) tokens, decode
    with that round's scale; then context = cat(context, median over samples)
    where median is torch.median(dim=1).values -- the LOWER median for an even
    number of samples (torch semantics), not the mean of the middle two.
  * utils.left_pad_and_stack_1D pads shorter series on the left with NaN, so
    padding becomes PAD tokens with mask 0.

Findings beyond issue 3's list (checked on this machine, torch 1.13.1 Debian,
CPU capability AVX2):
  * torch.linspace(float32) is NOT the textbook formula.  The CPU kernel
    (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp) computes
    start + step*i for i < n/2 and end - step*(n-1-i) above, but in blocks of
    2 x 8 lanes: each 8-lane vector starts at that value (computed with a fused
    multiply-add in this build) and its lanes are base + j*step (separate float
    multiply and add); the tail (< 16 left) uses the scalar formula.
    linspace_emulated() reproduces it bit for bit here; the plain formula differs
    in 105 of 509 (and 691 of 4093) centres by ulps.  Another torch build (AVX-512,
    no FMA contraction) may give other ulps, so golden files carry the exact
    centres and boundaries used, and near-edge inputs are reported, not failed.
  * The middle centre is not exactly 0 (4.17e-07 for 509 centres).
  * Relative-position buckets at rel = 16, 32, 64 (max_distance 128) sit exactly
    on integer boundaries of the log formula (2.0, 4.0, 6.0); float32 torch gives
    the exact integers here.  The bucket tables are in the golden files.

Issue 3's "details easy to get wrong", as checked:
  * tie_word_embeddings default true, head = shared.weight, stored lm_head
    ignored, d_model**-0.5 rescale: confirmed (modeling_t5.py, configuration_utils).
    The real configs omitting the key: chronos-forecasting's dummy config omits
    it, and so does a third-party copy of amazon/chronos-t5-tiny's config; the Hub
    itself was not reachable from here.  Note that HF-written tied files do not
    contain lm_head.weight at all (see save_pretrained above).
  * num_heads * d_kv may differ from d_model: true in the code (inner_dim); the
    chronos-forecasting dummy model has 1 x 16 vs 64.  "chronos-t5-mini is 384
    with 8 heads of 64" could not be verified (its training config only names
    google/t5-efficient-mini).  Explicit dense_act_fn / is_gated_act override:
    true for transformers 4.x (kwargs set after T5Config computes them).
  * min_new_tokens = max_new_tokens suppresses EOS at every step, PAD is not
    suppressed: confirmed; it also applies with use_eos_token false.  Masked
    positions: torch.finfo(float32).min, not -inf: confirmed.
  * Later rounds re-tokenize the last context_length values with a fresh scale
    after appending the median: confirmed, with the precision that the median is
    torch's lower median (20 samples -> the 10th smallest).
  * float32 bins and near-edge reporting: confirmed, and stronger than stated:
    the centres themselves are torch-build dependent at the ulp level (linspace).
  * Scale "1 when that is 0": it is 1 whenever the mean is not > 0, which also
    covers an all-missing context (0/0 = NaN).
  * Short contexts: ChronosPipeline does not pad a single series; left padding
    (NaN -> PAD, mask 0) happens when series of different lengths are batched.
    Both give the same numbers (checked in golden_case()).
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

F32MIN = float(np.finfo(np.float32).min)

# --------------------------------------------------------------------------
# safetensors by hand
# --------------------------------------------------------------------------

DTYPE_NAMES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}
DTYPE_SIZES = {"F32": 4, "BF16": 2, "F16": 2}


def safetensors_write(path, tensors, dtype_name="F32"):
    """Write {name: float tensor} with every tensor stored as dtype_name.
    Layout: u64 LE header length, JSON header (padded with spaces to a multiple
    of 8), raw little-endian data in header order (sorted by name)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if dtype_name == "F32":
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif dtype_name == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        elif dtype_name == "F16":
            raw = t.to(torch.float16).numpy().astype("<f2").tobytes()
        else:
            raise ValueError(dtype_name)
        header[name] = {"dtype": dtype_name, "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def safetensors_read(path):
    """Read a safetensors file into {name: float32 tensor} (BF16/F16 widened)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[base + a: base + b]
        dt = info["dtype"]
        if dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            t = torch.from_numpy(arr.copy())
        elif dt == "BF16":
            arr = np.frombuffer(raw, dtype="<i2").copy()
            t = torch.from_numpy(arr).view(torch.bfloat16).to(torch.float32)
        elif dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
            t = torch.from_numpy(arr.copy())
        else:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype '{dt}'")
        out[name] = t.reshape(info["shape"])
    return out


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------

class Cfg:
    """The fields of config.json the forward pass needs, with HF defaults."""

    def __init__(self, j):
        self.raw = j
        self.vocab_size = j["vocab_size"]
        self.d_model = j["d_model"]
        self.d_kv = j["d_kv"]
        self.d_ff = j["d_ff"]
        self.num_layers = j["num_layers"]
        self.num_decoder_layers = j.get("num_decoder_layers") or j["num_layers"]
        self.num_heads = j["num_heads"]
        self.nb = j.get("relative_attention_num_buckets", 32)
        self.max_dist = j.get("relative_attention_max_distance", 128)
        self.eps = j.get("layer_norm_epsilon", 1e-6)
        ffp = j.get("feed_forward_proj", "relu")
        parts = ffp.split("-")
        act = parts[-1]
        gated = parts[0] == "gated"
        if ffp == "gated-gelu":
            act = "gelu_new"
        # explicit keys override (PretrainedConfig sets leftover kwargs last)
        self.act = j.get("dense_act_fn", act)
        self.gated = j.get("is_gated_act", gated)
        self.tied = j.get("tie_word_embeddings", True)
        self.decoder_start = j.get("decoder_start_token_id", 0)
        c = j["chronos_config"]
        self.cc = c
        self.n_tokens = c["n_tokens"]
        self.n_special = c["n_special_tokens"]
        self.pad_id = c["pad_token_id"]
        self.eos_id = c["eos_token_id"]
        self.use_eos = c["use_eos_token"]
        self.low = c["tokenizer_kwargs"]["low_limit"]
        self.high = c["tokenizer_kwargs"]["high_limit"]
        self.context_length = c["context_length"]
        self.prediction_length = c["prediction_length"]
        self.num_samples = c["num_samples"]
        self.temperature = c["temperature"]
        self.top_k = c["top_k"]
        self.top_p = c["top_p"]


# --------------------------------------------------------------------------
# tokenizer (MeanScaleUniformBins)
# --------------------------------------------------------------------------

def _fma32(a, b, c):
    """float32(a*b + c) with one rounding (a*b is exact in double; the add
    rounds once to double and once to float -- exact for the magnitudes here,
    checked against torch.linspace in Tokenizer.__init__)."""
    return np.float32(float(a) * float(b) + float(c))


def linspace_emulated(lo, hi, n, lanes=8):
    """torch 1.13 CPU float32 linspace as compiled for AVX2 with FMA contraction
    (see the module docstring).  Documentation for the C side."""
    f = np.float32
    start, end = f(lo), f(hi)
    step = f(f(end - start) / f(n - 1))
    half = n // 2

    def scalar(i):
        if i < half:
            return _fma32(step, f(i), start)
        return _fma32(-step, f(n - 1 - i), end)

    out = np.zeros(n, dtype=np.float32)
    i = 0
    while i + 2 * lanes <= n:
        for _ in range(2):
            base = scalar(i)
            for j in range(lanes):
                out[i + j] = f(base + f(f(j) * step))
            i += lanes
    while i < n:
        out[i] = scalar(i)
        i += 1
    return out


class Tokenizer:
    def __init__(self, cfg):
        self.cfg = cfg
        n = cfg.n_tokens - cfg.n_special - 1
        self.centers = torch.linspace(cfg.low, cfg.high, n)
        self.boundaries = torch.cat((torch.tensor([-1e20]),
                                     (self.centers[1:] + self.centers[:-1]) / 2,
                                     torch.tensor([1e20])))
        emu = linspace_emulated(cfg.low, cfg.high, n)
        self.linspace_emulation_ok = bool((emu == self.centers.numpy()).all())

    def input_transform(self, context, scale=None):
        """context: (B, L) float tensor with NaN for missing."""
        context = context.to(torch.float32)
        mask = ~torch.isnan(context)
        if scale is None:
            scale = torch.nansum(torch.abs(context) * mask, dim=-1) / torch.nansum(mask, dim=-1)
            scale[~(scale > 0)] = 1.0
        scaled = context / scale.unsqueeze(-1)
        ids = torch.bucketize(scaled, self.boundaries, right=True) + self.cfg.n_special
        ids.clamp_(0, self.cfg.n_tokens - 1)
        ids[~mask] = self.cfg.pad_id
        return ids, mask, scale, scaled

    def context_transform(self, context):
        if context.shape[-1] > self.cfg.context_length:
            context = context[..., -self.cfg.context_length:]
        ids, mask, scale, scaled = self.input_transform(context)
        if self.cfg.use_eos:
            b = ids.shape[0]
            ids = torch.cat((ids, torch.full((b, 1), self.cfg.eos_id)), dim=1)
            mask = torch.cat((mask, torch.full((b, 1), True)), dim=1)
        return ids, mask, scale, scaled

    def output_transform(self, samples, scale):
        idx = torch.clamp(samples - self.cfg.n_special - 1, min=0, max=len(self.centers) - 1)
        return self.centers[idx] * scale.view(-1, *([1] * (samples.dim() - 1)))

    def near_edges(self, scaled, max_ulps=16):
        """Inputs whose scaled value lies within max_ulps of a bin boundary."""
        out = []
        b = self.boundaries.numpy()[1:-1].astype(np.float64)
        s = scaled.numpy().astype(np.float64).ravel()
        for i, v in enumerate(s):
            if not math.isfinite(v):
                continue
            k = int(np.searchsorted(b, v))
            for kk in (k - 1, k):
                if 0 <= kk < len(b):
                    ulp = float(np.spacing(np.float32(max(abs(v), abs(b[kk])))))
                    d = abs(v - b[kk]) / ulp
                    if d <= max_ulps:
                        out.append({"index": i, "scaled": f32(v), "boundary": f32(b[kk]),
                                    "boundary_index": kk + 1, "ulps": round(d, 2)})
        return out


# --------------------------------------------------------------------------
# T5
# --------------------------------------------------------------------------

def rms_norm(x, w, eps):
    var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACTS = {"relu": torch.relu, "gelu_new": gelu_new,
        "gelu_pytorch_tanh": gelu_new, "gelu": torch.nn.functional.gelu}


def rel_bucket(rel, bidirectional, nb, max_dist):
    buckets = torch.zeros_like(rel)
    if bidirectional:
        nb //= 2
        buckets += (rel > 0).to(torch.long) * nb
        rel = torch.abs(rel)
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = nb // 2
    small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_dist / max_exact)
                         * (nb - max_exact)).to(torch.long)
    large = torch.min(large, torch.full_like(large, nb - 1))
    return buckets + torch.where(small, rel, large)


class T5:
    def __init__(self, cfg, w):
        self.cfg = cfg
        self.w = w
        self.emb = w["shared.weight"]
        self.head = self.emb if cfg.tied else w["lm_head.weight"]
        self.act = ACTS[cfg.act]

    def bias(self, table, qlen, klen, bidirectional, q_offset=0):
        q = torch.arange(q_offset, q_offset + qlen)[:, None]
        k = torch.arange(klen)[None, :]
        b = rel_bucket(k - q, bidirectional, self.cfg.nb, self.cfg.max_dist)
        return table[b].permute(2, 0, 1).unsqueeze(0)  # (1, H, q, k)

    def attn(self, pre, x, kv, bias, cache=None):
        """x: (B, q, d). kv: (B, k, d) or None when (k, v) come from cache."""
        H, D = self.cfg.num_heads, self.cfg.d_kv
        B, T, _ = x.shape
        q = F.linear(x, self.w[pre + ".q.weight"]).view(B, T, H, D).transpose(1, 2)
        if kv is not None:
            k = F.linear(kv, self.w[pre + ".k.weight"]).view(B, -1, H, D).transpose(1, 2)
            v = F.linear(kv, self.w[pre + ".v.weight"]).view(B, -1, H, D).transpose(1, 2)
        if cache is not None:
            if kv is not None and "k" in cache:
                k = torch.cat((cache["k"], k), dim=2)
                v = torch.cat((cache["v"], v), dim=2)
            elif kv is None:
                k, v = cache["k"], cache["v"]
            cache["k"], cache["v"] = k, v
        s = q @ k.transpose(3, 2)
        s = s + bias
        p = torch.softmax(s.float(), dim=-1)
        o = (p @ v).transpose(1, 2).reshape(B, T, H * D)
        return F.linear(o, self.w[pre + ".o.weight"])

    def ff(self, pre, x):
        if self.cfg.gated:
            h = self.act(F.linear(x, self.w[pre + ".wi_0.weight"])) * F.linear(x, self.w[pre + ".wi_1.weight"])
        else:
            h = self.act(F.linear(x, self.w[pre + ".wi.weight"]))
        return F.linear(h, self.w[pre + ".wo.weight"])

    def encode(self, ids, mask):
        c = self.cfg
        h = self.emb[ids]
        L = ids.shape[1]
        add = (1.0 - mask[:, None, None, :].to(torch.float32)) * F32MIN
        bias = self.bias(self.w["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
                         L, L, True) + add
        for i in range(c.num_layers):
            p = f"encoder.block.{i}"
            n = rms_norm(h, self.w[p + ".layer.0.layer_norm.weight"], c.eps)
            h = h + self.attn(p + ".layer.0.SelfAttention", n, n, bias)
            n = rms_norm(h, self.w[p + ".layer.1.layer_norm.weight"], c.eps)
            h = h + self.ff(p + ".layer.1.DenseReluDense", n)
        return rms_norm(h, self.w["encoder.final_layer_norm.weight"], c.eps)

    def logits(self, h):
        if self.cfg.tied:
            h = h * (self.cfg.d_model ** -0.5)
        return F.linear(h, self.head)

    def decode_full(self, ids, enc, enc_mask, hidden=False):
        """Logits for every position of decoder input ids (B, T), no cache
        (the final hidden states instead when hidden is true)."""
        c = self.cfg
        B, T = ids.shape
        h = self.emb[ids]
        causal = torch.triu(torch.full((T, T), F32MIN), diagonal=1)[None, None]
        sbias = self.bias(self.w["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
                          T, T, False) + causal
        xbias = (1.0 - enc_mask[:, None, None, :].to(torch.float32)) * F32MIN
        for i in range(c.num_decoder_layers):
            p = f"decoder.block.{i}"
            n = rms_norm(h, self.w[p + ".layer.0.layer_norm.weight"], c.eps)
            h = h + self.attn(p + ".layer.0.SelfAttention", n, n, sbias)
            n = rms_norm(h, self.w[p + ".layer.1.layer_norm.weight"], c.eps)
            h = h + self.attn(p + ".layer.1.EncDecAttention", n, enc, xbias)
            n = rms_norm(h, self.w[p + ".layer.2.layer_norm.weight"], c.eps)
            h = h + self.ff(p + ".layer.2.DenseReluDense", n)
        h = rms_norm(h, self.w["decoder.final_layer_norm.weight"], c.eps)
        return h if hidden else self.logits(h)

    def decode_step(self, tok, pos, enc, enc_mask, caches):
        """One cached decoder step: tok (B,) at position pos -> logits (B, V).
        caches: list of per-layer dicts {"self": {}, "cross": {}} (filled here)."""
        c = self.cfg
        h = self.emb[tok][:, None, :]
        sbias = self.bias(self.w["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
                          1, pos + 1, False, q_offset=pos)
        xbias = (1.0 - enc_mask[:, None, None, :].to(torch.float32)) * F32MIN
        for i in range(c.num_decoder_layers):
            p = f"decoder.block.{i}"
            n = rms_norm(h, self.w[p + ".layer.0.layer_norm.weight"], c.eps)
            h = h + self.attn(p + ".layer.0.SelfAttention", n, n, sbias, caches[i]["self"])
            n = rms_norm(h, self.w[p + ".layer.1.layer_norm.weight"], c.eps)
            cross = caches[i]["cross"]
            h = h + self.attn(p + ".layer.1.EncDecAttention", n, None if "k" in cross else enc, xbias, cross)
            n = rms_norm(h, self.w[p + ".layer.2.layer_norm.weight"], c.eps)
            h = h + self.ff(p + ".layer.2.DenseReluDense", n)
        h = rms_norm(h, self.w["decoder.final_layer_norm.weight"], c.eps)
        return self.logits(h)[:, 0, :]


def warp_and_pick(logits, cfg, num_new, max_new, temperature, top_k, top_p, gen=None):
    """HF order: MinNewTokens (EOS -> -inf while num_new < max_new), temperature,
    top-k, top-p; then softmax + multinomial, or argmax when gen is None."""
    s = logits.clone()
    if num_new < max_new:
        s[:, cfg.eos_id] = -math.inf
    if temperature != 1.0:
        s = s / temperature
    if top_k:
        k = min(top_k, s.shape[-1])
        s = s.masked_fill(s < torch.topk(s, k)[0][..., -1, None], -math.inf)
    if top_p < 1.0:
        sl, si = torch.sort(s, descending=False)
        cum = sl.softmax(dim=-1).cumsum(dim=-1)
        rm = cum <= (1 - top_p)
        rm[..., -1:] = False
        s = s.masked_fill(rm.scatter(1, si, rm), -math.inf)
    if gen is None:
        return s.argmax(dim=-1), s
    return torch.multinomial(torch.softmax(s, dim=-1), 1, generator=gen)[:, 0], s


def generate(model, ids, mask, n_steps, num_samples=1, temperature=1.0, top_k=1, top_p=1.0, gen=None):
    """chronos ChronosModel.forward + HF generate with KV cache.  Returns
    (tokens (B*S, n), list of per-step top1-top2 gaps for argmax mode)."""
    cfg = model.cfg
    enc = model.encode(ids, mask)
    enc = enc.repeat_interleave(num_samples, dim=0)
    emask = mask.repeat_interleave(num_samples, dim=0)
    B = enc.shape[0]
    caches = [{"self": {}, "cross": {}} for _ in range(cfg.num_decoder_layers)]
    tok = torch.full((B,), cfg.decoder_start, dtype=torch.long)
    out, gaps, eos_top = [], [], 0
    for t in range(n_steps):
        lg = model.decode_step(tok, t, enc, emask, caches)
        if gen is None and lg.argmax(dim=-1).eq(cfg.eos_id).any():
            eos_top += 1
        tok, s = warp_and_pick(lg, cfg, t, n_steps, temperature, top_k, top_p, gen)
        if gen is None:
            raw = lg.clone()
            raw[:, cfg.eos_id] = -math.inf
            top2 = torch.topk(raw, 2).values
            gaps.append(float((top2[:, 0] - top2[:, 1]).min()))
        out.append(tok)
    return torch.stack(out, dim=1), gaps, eos_top


# --------------------------------------------------------------------------
# random checkpoints
# --------------------------------------------------------------------------

CHRONOS_KEYS = ["tokenizer_class", "tokenizer_kwargs", "n_tokens", "n_special_tokens",
                "pad_token_id", "eos_token_id", "use_eos_token", "model_type", "context_length",
                "prediction_length", "num_samples", "temperature", "top_k", "top_p"]


def make_config(d_model, d_kv, d_ff, num_layers, num_decoder_layers, num_heads, n_tokens,
                ffp="relu", nb=32, max_dist=128, context_length=64, prediction_length=8,
                use_eos=True, low=-15.0, high=15.0, tie=None, torch_dtype="float32",
                dense_act_fn=None, is_gated_act=None):
    """config.json in the key set and order of the real amazon/chronos-t5-* files
    (as in chronos-forecasting's test/dummy-chronos-model/config.json)."""
    parts = ffp.split("-")
    act = "gelu_new" if ffp == "gated-gelu" else parts[-1]
    j = {
        "architectures": ["T5ForConditionalGeneration"],
        "d_ff": d_ff,
        "d_kv": d_kv,
        "d_model": d_model,
        "decoder_start_token_id": 0,
        "dense_act_fn": act if dense_act_fn is None else dense_act_fn,
        "dropout_rate": 0.1,
        "eos_token_id": 1,
        "feed_forward_proj": ffp,
        "initializer_factor": 0.05,
        "is_encoder_decoder": True,
        "is_gated_act": (parts[0] == "gated") if is_gated_act is None else is_gated_act,
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "n_positions": 512,
        "num_decoder_layers": num_decoder_layers,
        "num_heads": num_heads,
        "num_layers": num_layers,
        "pad_token_id": 0,
        "relative_attention_max_distance": max_dist,
        "relative_attention_num_buckets": nb,
    }
    if tie is not None:
        j["tie_word_embeddings"] = tie
    j.update({
        "torch_dtype": torch_dtype,
        "transformers_version": "4.31.0",
        "use_cache": True,
        "vocab_size": n_tokens,
        "chronos_config": {
            "tokenizer_class": "MeanScaleUniformBins",
            "tokenizer_kwargs": {"low_limit": low, "high_limit": high},
            "n_tokens": n_tokens,
            "n_special_tokens": 2,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "use_eos_token": use_eos,
            "model_type": "seq2seq",
            "context_length": context_length,
            "prediction_length": prediction_length,
            "num_samples": 20,
            "temperature": 1.0,
            "top_k": 50,
            "top_p": 1.0,
        },
    })
    return j


def t5_stack_weights(cfg, n, w, out_scale):
    """Add to w the encoder and decoder blocks of a T5 stack (HF names), each
    tensor drawn by n(*shape, std=...) in a fixed order (the goldens depend on
    it).  Scales after T5PreTrainedModel._init_weights with q and the relative
    bias enlarged; out_scale multiplies those of the attention output and the
    feed-forward output projections.  Shared by chronos_reference.py and
    bolt_reference.py."""
    d, dkv, H, dff = cfg.d_model, cfg.d_kv, cfg.num_heads, cfg.d_ff
    inner = H * dkv

    def norm(name):
        w[name] = 1.0 + n(d, std=0.2)

    def attn(p, rel):
        w[p + ".q.weight"] = n(inner, d, std=3.0 * (d * dkv) ** -0.5)
        w[p + ".k.weight"] = n(inner, d, std=d ** -0.5)
        w[p + ".v.weight"] = n(inner, d, std=d ** -0.5)
        w[p + ".o.weight"] = n(d, inner, std=out_scale * inner ** -0.5)
        if rel:
            w[p + ".relative_attention_bias.weight"] = n(cfg.nb, H, std=1.0)

    def ff(p):
        if cfg.gated:
            w[p + ".wi_0.weight"] = n(dff, d, std=d ** -0.5)
            w[p + ".wi_1.weight"] = n(dff, d, std=d ** -0.5)
        else:
            w[p + ".wi.weight"] = n(dff, d, std=d ** -0.5)
        w[p + ".wo.weight"] = n(d, dff, std=out_scale * dff ** -0.5)

    for i in range(cfg.num_layers):
        p = f"encoder.block.{i}.layer"
        attn(p + ".0.SelfAttention", i == 0)
        norm(p + ".0.layer_norm.weight")
        ff(p + ".1.DenseReluDense")
        norm(p + ".1.layer_norm.weight")
    norm("encoder.final_layer_norm.weight")
    for i in range(cfg.num_decoder_layers):
        p = f"decoder.block.{i}.layer"
        attn(p + ".0.SelfAttention", i == 0)
        norm(p + ".0.layer_norm.weight")
        attn(p + ".1.EncDecAttention", False)
        norm(p + ".1.layer_norm.weight")
        ff(p + ".2.DenseReluDense")
        norm(p + ".2.layer_norm.weight")
    norm("decoder.final_layer_norm.weight")


def write_checkpoint(d, cj, w, dtype):
    """Directory d (made) with config.json (cj) and model.safetensors (w in
    dtype); returns the weights read back from the file, checked equal to w,
    so that goldens are computed from what a loader sees."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cj, f, indent=2)
        f.write("\n")
    safetensors_write(os.path.join(d, "model.safetensors"), w, dtype)
    w2 = safetensors_read(os.path.join(d, "model.safetensors"))
    for k in w:
        assert torch.equal(w[k], w2[k]), k
    return w2


def random_weights(cfg, seed, layout, boost=None):
    """Random weights with HF names.  Scales follow T5PreTrainedModel._init_weights
    (factor 1) with q and the relative bias enlarged so attention is not uniform
    and positions matter; logits come out with std ~1-2 (not flat, not saturated).
    layout: 'hf431' (shared + encoder/decoder.embed_tokens copies, as
    chronos-forecasting's dummy model), 'current' (shared only, today's
    save_pretrained), plus a stored lm_head when untied, or a decoy lm_head
    (different values, must be ignored) when layout is 'hf431-decoy'."""
    g = torch.Generator().manual_seed(seed)
    d, V = cfg.d_model, cfg.vocab_size

    def n(*shape, std):
        return torch.randn(*shape, generator=g) * std

    w = {"shared.weight": n(V, d, std=1.0)}
    t5_stack_weights(cfg, n, w, 3.0)
    if not cfg.tied:
        w["lm_head.weight"] = n(V, d, std=2.0 * d ** -0.5)
    if boost:
        # make EOS (suppressed) and PAD (not suppressed) strong candidates so
        # that forgetting the EOS suppression or suppressing PAD shows up
        head = "shared.weight" if cfg.tied else "lm_head.weight"
        for tok, fac in boost.items():
            w[head][tok] *= fac
    if layout.startswith("hf431"):
        w["encoder.embed_tokens.weight"] = w["shared.weight"].clone()
        w["decoder.embed_tokens.weight"] = w["shared.weight"].clone()
    if layout == "hf431-decoy":
        assert cfg.tied
        w["lm_head.weight"] = n(V, d, std=1.0)
    return w


def round_to(w, dtype_name):
    if dtype_name == "BF16":
        return {k: v.to(torch.bfloat16).to(torch.float32) for k, v in w.items()}
    if dtype_name == "F16":
        return {k: v.to(torch.float16).to(torch.float32) for k, v in w.items()}
    return w


MODELS = [
    # name, config kwargs, seed, layout, dtype, boost
    ("relu-tied",
     dict(d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
          n_tokens=512, ffp="relu", context_length=64, prediction_length=8, use_eos=True),
     1001, "hf431-decoy", "F32", {1: 2.5}),
    ("gated-untied",
     dict(d_model=48, d_kv=20, d_ff=96, num_layers=3, num_decoder_layers=2, num_heads=3,
          n_tokens=400, ffp="gated-gelu", nb=32, max_dist=32, context_length=48,
          prediction_length=6, use_eos=False, low=-12.0, high=10.0, tie=False),
     2002, "current", "F32", None),
    ("bf16-override",
     dict(d_model=32, d_kv=16, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2,
          n_tokens=256, ffp="relu", dense_act_fn="gelu_new", context_length=32,
          prediction_length=4, use_eos=True, tie=True, torch_dtype="bfloat16"),
     3003, "current", "BF16", None),
]


# --------------------------------------------------------------------------
# golden files
# --------------------------------------------------------------------------

def f32(x):
    """A float32 value as the shortest decimal that round-trips through float32."""
    return float(str(np.float32(x)))


def flist(t):
    a = t.detach().to(torch.float32).numpy() if isinstance(t, torch.Tensor) else np.asarray(t, np.float32)
    if a.ndim == 0:
        return f32(a)
    if a.ndim == 1:
        return [None if not math.isfinite(v) else float(s) for v, s in zip(a.tolist(), map(str, a))]
    return [flist(x) for x in a]


def contexts(cfg, seed):
    """The test contexts (float32 arrays, NaN for missing)."""
    rng = np.random.default_rng(seed)
    C = cfg.context_length

    def walk(n, start=100.0):
        return (start + np.cumsum(rng.normal(0, 1.5, n))).astype(np.float32)

    normal = walk(C)
    short = walk(C * 5 // 8, 20.0)
    long = (np.sin(np.arange(C + 36) / 3.0) * 5 + walk(C + 36, 0.0) * 0.3).astype(np.float32)
    nan = walk(C, -50.0)
    nan[[0, 1, 7, C // 2, C // 2 + 1, C // 2 + 2, C - 3]] = np.nan
    zero = np.zeros(C, np.float32)
    allnan = np.full(C, np.nan, np.float32)
    return [("normal", normal), ("short", short), ("long", long), ("nan", nan),
            ("zero", zero), ("all-nan", allnan)]


def edge_context(tok, base, positions=(20,)):
    """A copy of base where the values at positions are nudged (a few float32
    steps) so that value / scale lands exactly on a bin boundary, or as close as
    float32 allows: the near-edge case issue 3 asks the tests to report."""
    ctx = base.copy()
    b = tok.boundaries.numpy()
    for pos in positions:
        x = torch.from_numpy(ctx)[None, :]
        _, _, scale, scaled = tok.input_transform(x)
        k = int(np.searchsorted(b, scaled[0, pos].item()))
        target = b[k]
        for _ in range(4):  # fixed point: the value moves the scale a little
            ctx[pos] = np.float32(float(target) * float(tok.input_transform(torch.from_numpy(ctx)[None, :])[2][0]))
        best, bestd = ctx[pos], math.inf
        v = ctx[pos]
        for _ in range(40):
            v = np.nextafter(v, np.float32(-np.inf))
        for _ in range(80):
            ctx[pos] = v
            sc = tok.input_transform(torch.from_numpy(ctx)[None, :])[3][0, pos].item()
            dd = abs(sc - float(target))
            if dd < bestd:
                best, bestd = v, dd
            v = np.nextafter(v, np.float32(np.inf))
        ctx[pos] = best
    return ctx


def left_pad(ctx, C):
    if len(ctx) >= C:
        return ctx
    return np.concatenate((np.full(C - len(ctx), np.nan, np.float32), ctx))


def golden_case(model, tok, name, ctx):
    cfg = model.cfg
    C, PL = cfg.context_length, cfg.prediction_length
    # left padding to context_length, as left_pad_and_stack_1D does in a batch
    # with a longer series; padded positions are PAD with mask 0
    x = torch.from_numpy(left_pad(ctx, C))[None, :]
    ids, mask, scale, scaled = tok.context_transform(x)
    enc = model.encode(ids, mask)
    V = cfg.vocab_size
    prefixes = [[cfg.decoder_start],
                [cfg.decoder_start, cfg.eos_id, cfg.pad_id, cfg.n_special + 1, V // 2, V - 1]]
    logits = [model.decode_full(torch.tensor([p]), enc, mask)[0] for p in prefixes]

    # self-checks: padding is invisible, cached decoding == full decoding
    if len(ctx) < C:
        x2 = torch.from_numpy(ctx)[None, :]
        ids2, mask2, _, _ = tok.context_transform(x2)
        enc2 = model.encode(ids2, mask2)
        off = ids.shape[1] - ids2.shape[1]
        assert (enc[0, off:] - enc2[0]).abs().max() < 1e-4, "padding changed the encoder output"
        lg2 = model.decode_full(torch.tensor([prefixes[1]]), enc2, mask2)[0]
        assert (lg2 - logits[1]).abs().max() < 1e-4, "padding changed the logits"

    # greedy forecast over 2 x prediction_length, rounds as ChronosPipeline.predict
    rounds = []
    context = x
    remaining, steps = 2 * PL, 2 * PL
    samples_all = []
    near = []
    while remaining > 0:
        rids, rmask, rscale, rscaled = tok.context_transform(context)
        n = min(remaining, PL)
        toks, gaps, eos_top = generate(model, rids, rmask, n)
        full = model.decode_full(torch.cat((torch.tensor([[cfg.decoder_start]]), toks[:, :-1]), 1),
                                 model.encode(rids, rmask), rmask)[0]
        full[:, cfg.eos_id] = -math.inf
        assert torch.equal(full.argmax(-1), toks[0]), "cached and full decoding disagree"
        values = tok.output_transform(toks, rscale)  # (1, n)
        r = len(rounds) + 1
        for e in tok.near_edges(rscaled[0]):
            e["round"] = r
            near.append(e)
        for s, gap in enumerate(gaps):
            if gap < 1e-3:
                near.append({"round": r, "step": s, "near_tie_gap": gap})
        rounds.append({"token_ids": rids[0].tolist(), "attention_mask": [int(v) for v in rmask[0]],
                       "scale": f32(rscale[0]), "output_ids": toks[0].tolist(),
                       "values": flist(values[0]), "min_top2_gap": f32(min(gaps)),
                       "eos_would_win_steps": eos_top})
        samples_all.append(values[0])
        remaining -= n
        if remaining <= 0:
            break
        med = values[None, :, :].median(dim=1).values  # (1, n); 1 sample -> itself
        context = torch.cat((context, med), dim=-1)

    return {
        "name": name,
        "context": [None if math.isnan(v) else f32(v) for v in ctx.tolist()],
        "padded_context_length": int(x.shape[1]),
        "token_ids": ids[0].tolist(),
        "attention_mask": [int(v) for v in mask[0]],
        "scale": f32(scale[0]),
        "encoder_output": flist(enc[0]),
        "decoder_prefixes": prefixes,
        "decoder_logits": [flist(l) for l in logits],
        "greedy": {
            "steps": steps,
            "top_k": 1,
            "samples": flist(torch.cat(samples_all, dim=-1)),
            "token_ids_round1": rounds[0]["output_ids"],
            "token_ids_round2": rounds[1]["output_ids"] if len(rounds) > 1 else [],
            "rounds": rounds,
            "near_edge": near,
        },
    }


def bucket_tables(cfg, enc_len, dec_len):
    e = torch.arange(-(enc_len - 1), enc_len)
    d = torch.arange(-(dec_len - 1), 1)
    return {
        "encoder": {"rel_from": -(enc_len - 1), "buckets": rel_bucket(e, True, cfg.nb, cfg.max_dist).tolist()},
        "decoder": {"rel_from": -(dec_len - 1), "buckets": rel_bucket(d, False, cfg.nb, cfg.max_dist).tolist()},
    }


def calibrate_special_rows(cfg, w, ctxs):
    """Untied head only: point the EOS and PAD rows of lm_head along the mean
    decoder output so that EOS would win most greedy steps if it were not
    suppressed, and PAD (which is not suppressed) wins some of them."""
    model = T5(cfg, w)
    tok = Tokenizer(cfg)
    hs, tops = [], []
    for _, ctx in ctxs[:3]:
        x = torch.from_numpy(left_pad(ctx, cfg.context_length))[None, :]
        ids, mask, _, _ = tok.context_transform(x)
        enc = model.encode(ids, mask)
        pre = torch.tensor([[cfg.decoder_start] + list(range(3, 3 + 2 * cfg.prediction_length))])
        h = model.decode_full(pre, enc, mask, hidden=True)[0]
        lg = model.logits(h)
        lg[:, :cfg.n_special] = -math.inf
        hs.append(h)
        tops.append(lg.max(-1).values)
    h = torch.cat(hs)
    u = h.mean(0)
    u = u / u.norm()
    proj = (h @ u).mean()
    top = torch.cat(tops).median()
    w["lm_head.weight"][cfg.eos_id] = u * (top + 1.0) / proj
    w["lm_head.weight"][cfg.pad_id] = u * top / proj


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def generate_all(out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    summary = []
    for name, kw, seed, layout, dtype, boost in MODELS:
        d = os.path.join(out, name)
        cj = make_config(**kw)
        cfg = Cfg(cj)
        w = random_weights(cfg, seed, layout, boost)
        w = round_to(w, dtype)
        if not cfg.tied:
            calibrate_special_rows(cfg, w, contexts(cfg, seed + 7))
        w2 = write_checkpoint(d, cj, w, dtype)
        model = T5(cfg, w2)
        tok = Tokenizer(cfg)
        ctxs = contexts(cfg, seed + 7)
        ctxs.insert(1, ("edge", edge_context(tok, ctxs[0][1])))
        cases = [golden_case(model, tok, cname, ctx) for cname, ctx in ctxs]
        enc_len = cfg.context_length + (1 if cfg.use_eos else 0)
        golden = {
            "format": "chronopt-chronos-golden-1",
            "model": name,
            "weights_dtype": dtype,
            "generator": "scripts/chronos_reference.py (torch %s)" % torch.__version__,
            "tokenizer": {"centers": flist(tok.centers), "boundaries": flist(tok.boundaries),
                          "linspace_emulation_matches_torch": tok.linspace_emulation_ok},
            "relative_position_buckets": bucket_tables(cfg, enc_len, 2 * cfg.prediction_length + 1),
            "cases": cases,
        }
        write_json(os.path.join(d, "golden.json"), golden)
        ne = sum(len(c["greedy"]["near_edge"]) for c in cases)
        summary.append(f"{name}: {len(cases)} cases, near-edge/tie notes {ne}, "
                       f"linspace emulation {'ok' if tok.linspace_emulation_ok else 'DIFFERS'}")
    for s in summary:
        print(s)


# --------------------------------------------------------------------------
# check: recompute a golden file from the stored checkpoint (regression aid)
# --------------------------------------------------------------------------

def check(d):
    torch.set_num_threads(1)
    cfg = Cfg(json.load(open(os.path.join(d, "config.json"))))
    model = T5(cfg, safetensors_read(os.path.join(d, "model.safetensors")))
    tok = Tokenizer(cfg)
    g = json.load(open(os.path.join(d, "golden.json")))
    worst = 0.0
    for c in g["cases"]:
        ids = torch.tensor([c["token_ids"]])
        mask = torch.tensor([c["attention_mask"]]).bool()
        enc = model.encode(ids, mask)
        worst = max(worst, float((enc[0] - torch.tensor(c["encoder_output"])).abs().max()))
        for p, lg in zip(c["decoder_prefixes"], c["decoder_logits"]):
            l2 = model.decode_full(torch.tensor([p]), enc, mask)[0]
            worst = max(worst, float((l2 - torch.tensor(lg)).abs().max()))
    print(f"{d}: max abs diff {worst:.3g}")
    return 0 if worst <= 1e-5 else 1


# --------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------

BENCH_DIMS = {
    "tiny": dict(d_model=256, d_kv=64, d_ff=1024, num_layers=4, num_decoder_layers=4, num_heads=4),
    "mini": dict(d_model=384, d_kv=64, d_ff=1536, num_layers=4, num_decoder_layers=4, num_heads=8),
    "small": dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6, num_heads=8),
}


def bench(dims, samples_list, steps, reps):
    torch.set_num_threads(1)
    for dname in dims:
        cj = make_config(n_tokens=4096, context_length=512, prediction_length=steps, **BENCH_DIMS[dname])
        cfg = Cfg(cj)
        model = T5(cfg, random_weights(cfg, 42, "current"))
        tok = Tokenizer(cfg)
        rng = np.random.default_rng(0)
        ctx = torch.from_numpy((100 + np.cumsum(rng.normal(0, 1, 512))).astype(np.float32))[None, :]
        ids, mask, scale, _ = tok.context_transform(ctx)
        ids, mask = ids[:, :512], mask[:, :512]  # encoder at exactly 512 tokens
        with torch.no_grad():
            t_enc = []
            for _ in range(reps):
                t0 = time.perf_counter()
                model.encode(ids, mask)
                t_enc.append(time.perf_counter() - t0)
            line = f"torch {dname} encoder_ms={min(t_enc) * 1e3:.1f}"
            for S in samples_list:
                g = torch.Generator().manual_seed(1)
                t_dec = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    generate(model, ids, mask, steps, num_samples=S, temperature=1.0,
                             top_k=50, top_p=1.0, gen=g)
                    t_dec.append(time.perf_counter() - t0)
                line += f" decode{S}_ms={min(t_dec) * 1e3:.1f}"
            line += f" steps={steps} threads={torch.get_num_threads()} torch={torch.__version__}"
        print(line, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="write checkpoints and golden files under this directory")
    ap.add_argument("--check", metavar="DIR", help="recompute DIR/golden.json from DIR's checkpoint")
    ap.add_argument("--bench", action="store_true", help="time the PyTorch reference (1 thread)")
    ap.add_argument("--dims", default="small", help="bench dims: comma list of tiny,mini,small")
    ap.add_argument("--samples", default="20", help="bench sample counts, comma list")
    ap.add_argument("--steps", type=int, default=64, help="bench decode steps")
    ap.add_argument("--reps", type=int, default=2, help="bench repetitions (min is reported)")
    a = ap.parse_args()
    if a.bench:
        bench(a.dims.split(","), [int(s) for s in a.samples.split(",")], a.steps, a.reps)
        return 0
    if a.check:
        return check(a.check)
    if a.out:
        with torch.no_grad():
            generate_all(a.out)
        return 0
    ap.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
