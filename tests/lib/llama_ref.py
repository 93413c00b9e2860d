#!/usr/bin/python3
"""llama_ref.py: a plain PyTorch llama (written out by hand, not the
transformers package), the reference fa's lib/fa_llama is tested against.

    llama_ref.py MODELDIR JOBDIR [MODELDIR JOBDIR ...]

Reads MODELDIR/config.json and MODELDIR/model.safetensors (parsed by hand)
and computes in float64:
  - JOBDIR/ids.i32 (int32 token ids) -> JOBDIR/logits.f32 (n x vocab);
  - for every JOBDIR/jobK.json ({"train_layers", "lora_rank", "layout":
    fa_llama_train_layout's array}) with JOBDIR/jobK.params.f32 (the flat
    trained parameters, as fa has them): the last token's final-normed
    hidden state into jobK.last.f32, and torch.autograd's gradient of the
    test loss  sum(c * last) + 0.5 * sum(last^2),  c_i = sin(i + 1),  with
    respect to every trained parameter, in the same flat layout, into
    jobK.grads.f32.
LoRA: W' = W + (alpha / r) B A, alpha = 16 (FA_LLAMA_LORA_ALPHA).
Run with Debian's /usr/bin/python3 (python3-torch)."""
import glob
import json
import math
import os
import struct
import sys

import numpy as np
import torch

ALPHA = 16.0
DT = torch.float64


def load_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (hl,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + hl])
    base = 8 + hl
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = buf[base + b:base + end]
        if e["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy())
        elif e["dtype"] == "F16":
            t = torch.from_numpy(np.frombuffer(raw, dtype="<f2").astype(np.float32))
        elif e["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            t = torch.from_numpy(u.view(np.float32).copy())
        else:
            raise SystemExit("llama_ref.py: dtype %s" % e["dtype"])
        out[name] = t.reshape(e["shape"]).to(DT)
    return out


def rms(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_tables(n, hd, theta):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    ang = torch.arange(n).float()[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos().to(DT), emb.sin().to(DT)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def layer(cfg, W, p, x, cos, sin):
    n, d = x.shape
    H, KV = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    hd = d // H
    eps = cfg["rms_norm_eps"]
    h = rms(x, W[p + "input_layernorm.weight"], eps)
    q = (h @ W[p + "self_attn.q_proj.weight"].T).view(n, H, hd).transpose(0, 1)
    k = (h @ W[p + "self_attn.k_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
    v = (h @ W[p + "self_attn.v_proj.weight"].T).view(n, KV, hd).transpose(0, 1)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(H // KV, dim=0)
    v = v.repeat_interleave(H // KV, dim=0)
    s = q @ k.transpose(1, 2) / math.sqrt(hd)
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    s = s.masked_fill(mask, float("-inf"))
    att = (torch.softmax(s, dim=-1) @ v).transpose(0, 1).reshape(n, d)
    x = x + att @ W[p + "self_attn.o_proj.weight"].T
    h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
    g = h @ W[p + "mlp.gate_proj.weight"].T
    u = h @ W[p + "mlp.up_proj.weight"].T
    return x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T


def forward(cfg, W, ids, final_all=True):
    d = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    cos, sin = rope_tables(len(ids), d // H, cfg.get("rope_theta", 10000.0))
    x = W["model.embed_tokens.weight"][torch.tensor(ids, dtype=torch.long)]
    for i in range(cfg["num_hidden_layers"]):
        x = layer(cfg, W, "model.layers.%d." % i, x, cos, sin)
    return rms(x, W["model.norm.weight"], cfg["rms_norm_eps"])


def read_f32(path):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").copy())


def write_f32(path, t):
    t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(path)


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        raise SystemExit("usage: llama_ref.py MODELDIR JOBDIR [MODELDIR JOBDIR ...]")
    for i in range(0, len(args), 2):
        one(args[i], args[i + 1])


def one(mdir, jdir):
    with open(os.path.join(mdir, "config.json")) as f:
        cfg = json.load(f)
    W = load_safetensors(os.path.join(mdir, "model.safetensors"))
    tied = cfg.get("tie_word_embeddings", False)
    head = W["model.embed_tokens.weight"] if tied else W["lm_head.weight"]
    ids = np.fromfile(os.path.join(jdir, "ids.i32"), dtype="<i4").tolist()
    with torch.no_grad():
        hn = forward(cfg, W, ids)
        write_f32(os.path.join(jdir, "logits.f32"), hn @ head.T)

    for jpath in sorted(glob.glob(os.path.join(jdir, "job*.json"))):
        stem = jpath[:-5]
        with open(jpath) as f:
            job = json.load(f)
        flat = read_f32(stem + ".params.f32").to(DT)
        P = {}
        for e in job["layout"]:
            t = flat[e["offset"]:e["offset"] + e["size"]].reshape(e["shape"]).clone()
            t.requires_grad_(True)
            P[e["name"]] = t
        r = job["lora_rank"]
        W2 = dict(W)
        for name, t in P.items():
            if name.endswith(".lora_A"):
                base = name[:-len(".lora_A")] + ".weight"
                B = P[name[:-1] + "B"]
                W2[base] = W[base] + (ALPHA / r) * (B @ t)
            elif not name.endswith(".lora_B"):
                W2[name] = t
        last = forward(cfg, W2, ids)[-1]
        c = torch.sin(torch.arange(1, last.shape[0] + 1, dtype=DT))
        loss = (c * last).sum() + 0.5 * (last * last).sum()
        loss.backward()
        grads = torch.zeros(flat.shape[0], dtype=DT)
        for e in job["layout"]:
            g = P[e["name"]].grad
            if g is not None:
                grads[e["offset"]:e["offset"] + e["size"]] = g.reshape(-1)
        write_f32(stem + ".grads.f32", grads)
        write_f32(stem + ".last.f32", last)


if __name__ == "__main__":
    main()
