#!/usr/bin/python3
"""llama-torch.py: the PyTorch side of bench/b40-llama.sh.

    llama-torch.py MODELDIR THREADS TOKENS PROMPTS REPS

The same two measures as bench/llama-bench.c, with the plain PyTorch llama
of tests/lib/llama_ref.py in float32 on torch.set_num_threads(THREADS):
  forward_tps  full forward with logits for every position, under no_grad
               (Debian's torch 1.13 ran the tiny model several times
               slower under inference_mode, the 135M one the same);
  ppo_sps      per prompt, from frozen states computed beforehand: the top
               2 layers and the final norm with their weights requiring
               grad, the last token's state, a loss, backward (autograd).
Each measure is the best of REPS runs after one warm-up run, as in
llama-bench. The token ids are the same fixed pseudo-random sequences as
llama-bench's."""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import llama_ref  # noqa: E402


def make_ids(n, vocab, prompt):
    s = 12345 + prompt * 7919
    out = []
    for _ in range(n):
        s = (s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append((s >> 33) % vocab)
    return out


def main():
    mdir = sys.argv[1]
    threads, n, nprompts, reps = (int(x) for x in sys.argv[2:6])
    torch.set_num_threads(threads)
    llama_ref.DT = torch.float32
    import json
    with open(os.path.join(mdir, "config.json")) as f:
        cfg = json.load(f)
    W = {k: v.to(torch.float32) for k, v in
         llama_ref.load_safetensors(os.path.join(mdir, "model.safetensors")).items()}
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    V = cfg["vocab_size"]
    prompts = [make_ids(n, V, p) for p in range(nprompts)]

    best = 1e30
    with torch.no_grad():
        for r in range(reps + 1):
            t0 = time.perf_counter()
            logits = llama_ref.forward(cfg, W, prompts[0]) @ head.T
            if r > 0:  # the first run warms up
                best = min(best, time.perf_counter() - t0)
    assert logits.shape == (n, V)
    print("forward_tps %.1f" % (n / best))

    L = cfg["num_hidden_layers"]
    d = cfg["hidden_size"]
    cos, sin = llama_ref.rope_tables(n, d // cfg["num_attention_heads"], cfg.get("rope_theta", 10000.0))
    frozen = []
    with torch.no_grad():
        for ids in prompts:
            x = W["model.embed_tokens.weight"][torch.tensor(ids)]
            for i in range(L - 2):
                x = llama_ref.layer(cfg, W, "model.layers.%d." % i, x, cos, sin)
            frozen.append(x)
    P = {}
    for k, v in W.items():
        if k.startswith("model.layers.%d." % (L - 2)) or k.startswith("model.layers.%d." % (L - 1)) \
                or k == "model.norm.weight":
            P[k] = v.clone().requires_grad_(True)
    W2 = dict(W)
    W2.update(P)
    c = 1.0 / torch.arange(1, d + 1, dtype=torch.float32)
    best = 1e30
    for r in range(reps + 1):
        for p in P.values():
            p.grad = None
        t0 = time.perf_counter()
        for x in frozen:
            for i in range(L - 2, L):
                x = llama_ref.layer(cfg, W2, "model.layers.%d." % i, x, cos, sin)
            last = llama_ref.rms(x[-1], W2["model.norm.weight"], cfg["rms_norm_eps"])
            loss = (c * last).sum() + 0.5 * (last * last).sum()
            loss.backward()
        if r > 0:  # the first run warms up
            best = min(best, time.perf_counter() - t0)
    print("ppo_sps %.2f" % (nprompts / best))


if __name__ == "__main__":
    main()
