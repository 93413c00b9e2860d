#!/usr/bin/python3
"""make_tiny_llama.py: writes a random llama-architecture checkpoint for fa's
tests and benchmarks: OUTDIR/config.json and OUTDIR/model.safetensors,
written by hand (8-byte little-endian header length, JSON header, raw
little-endian data), the way Hugging Face lays them out.

    make_tiny_llama.py OUTDIR [--layers 4 --hidden 64 --heads 4 --kv-heads 2
        --inter 172 --vocab 300 --dtype f32|bf16|f16 --tied|--untied --seed S]

Weights come from torch's seeded generator: projections with std
1/sqrt(in) (so activations keep their scale and every layer matters),
norms 1 + 0.1 N(0,1), embeddings N(0,1). Never touches OUTDIR/tokenizer.json
(tests/lib/make_tiny_tokenizer.py writes that; vocab 300 matches it).
Run with Debian's /usr/bin/python3 (python3-torch)."""
import argparse
import json
import os
import struct
import sys

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--inter", type=int, default=172)
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--max-pos", type=int, default=2048)
    ap.add_argument("--theta", type=float, default=10000.0)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--tied", dest="tied", action="store_true", default=True)
    g.add_argument("--untied", dest="tied", action="store_false")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.hidden % a.heads or a.heads % a.kv_heads:
        sys.exit("make_tiny_llama.py: heads must divide hidden, kv-heads heads")

    torch.manual_seed(a.seed)
    d, inter, hd = a.hidden, a.inter, a.hidden // a.heads
    kvd = a.kv_heads * hd
    tensors = []

    def lin(name, out, inp):
        tensors.append((name, torch.randn(out, inp) / inp ** 0.5))

    def norm(name):
        tensors.append((name, 1.0 + 0.1 * torch.randn(d)))

    tensors.append(("model.embed_tokens.weight", torch.randn(a.vocab, d)))
    for i in range(a.layers):
        p = "model.layers.%d." % i
        norm(p + "input_layernorm.weight")
        lin(p + "self_attn.q_proj.weight", d, d)
        lin(p + "self_attn.k_proj.weight", kvd, d)
        lin(p + "self_attn.v_proj.weight", kvd, d)
        lin(p + "self_attn.o_proj.weight", d, d)
        norm(p + "post_attention_layernorm.weight")
        lin(p + "mlp.gate_proj.weight", inter, d)
        lin(p + "mlp.up_proj.weight", inter, d)
        lin(p + "mlp.down_proj.weight", d, inter)
    norm("model.norm.weight")
    if not a.tied:
        lin("lm_head.weight", a.vocab, d)

    tdtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[a.dtype]
    stname = {"f32": "F32", "bf16": "BF16", "f16": "F16"}[a.dtype]
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name, t in tensors:
        t = t.to(tdtype).contiguous()
        if tdtype == torch.float32:
            raw = t.numpy().astype("<f4").tobytes()
        else:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": stname, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * ((8 - len(hjson) % 8) % 8)

    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": d,
        "intermediate_size": inter,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "max_position_embeddings": a.max_pos,
        "rms_norm_eps": a.eps,
        "rope_theta": a.theta,
        "rope_scaling": None,
        "vocab_size": a.vocab,
        "tie_word_embeddings": a.tied,
        "torch_dtype": {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}[a.dtype],
        "attention_bias": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    os.makedirs(a.outdir, exist_ok=True)
    for fname, write in (
        ("config.json", lambda f: f.write(json.dumps(config, indent=2).encode() + b"\n")),
        ("model.safetensors", lambda f: (f.write(struct.pack("<Q", len(hjson))), f.write(hjson),
                                         [f.write(b) for b in blobs])),
    ):
        path = os.path.join(a.outdir, fname)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)


if __name__ == "__main__":
    main()
