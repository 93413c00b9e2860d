#!/usr/bin/python3
"""make_tiny_tokenizer.py: writes a small, real byte-level BPE tokenizer in
SmolLM2's file layout, for tests that must not need downloaded files.

    make_tiny_tokenizer.py OUTDIR [--vocab N] [--pair-merges]

OUTDIR/tokenizer.json: ids 0..2 are <|endoftext|>, <|im_start|>, <|im_end|>
(added, special), then the 256 byte tokens, then the tokens of merges
learned by a plain deterministic BPE training (most frequent pair first,
ties broken by the pair's spelling) on a built-in corpus of finance-like
English with digits, extended with generated pseudo-words when N asks for
more merges than the corpus supports. N (default 300) is the vocabulary
size, highest id + 1. Pre-tokenizer Sequence[Digits(individual),
ByteLevel], decoder ByteLevel, merges as "a b" strings (or [a, b] pairs
with --pair-merges), as SmolLM2-135M-Instruct's file has them.
OUTDIR/tokenizer_config.json: a ChatML chat_template like SmolLM2's.
Same arguments, same bytes. Only the standard library is needed.
"""
import argparse
import collections
import heapq
import json
import os
import re
import sys

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CORPUS = """
The company reported quarterly revenue of 4.2 billion dollars, up 12 percent
from a year earlier, and raised its full-year outlook. Shares rose 6.5% in
after-hours trading. Analysts had expected earnings of 1.35 per share; the
company earned 1.48. The board approved a dividend of 0.24 per share, payable
on March 15 to holders of record on February 28.

Markets were mixed on Tuesday. The S&P 500 closed down 0.3%, while the Nasdaq
gained 0.4% on strength in technology stocks. Treasury yields climbed as
investors weighed fresh inflation data: consumer prices rose 3.1% in the
twelve months to January. The dollar strengthened against the euro and the
yen. Oil prices fell 2% to 76.80 a barrel after a surprise build in crude
inventories. Gold was little changed at 2,031 an ounce.

It's been a volatile week for the stock. We're watching the support level at
142 closely; if it breaks, the next target is 128. They'd cut their price
target to 155 from 170, citing slower growth in cloud services, but they've
kept a buy rating. I'm not convinced the sell-off is over. You'll want to
check the volume: it was 38 million shares, twice the 30-day average.

The central bank held interest rates steady at 5.25% to 5.50% and signalled
that cuts may come later in the year if inflation keeps easing. Bond markets
rallied. The yield on the 10-year note fell to 4.02%, its lowest since
December. Bank stocks slipped, while real estate and utilities gained.

Net income for the period was 812 million, or 2.10 per diluted share,
compared with 655 million, or 1.69 per share, a year ago. Operating margin
expanded to 23.4% from 21.9%. Free cash flow reached 1.1 billion. The company
repurchased 9.6 million shares for 500 million during the quarter and has
2.3 billion remaining under its buyback authorization.

Buy, hold or sell? The momentum indicator turned positive, the 50-day moving
average crossed above the 200-day average, and the relative strength index
stands at 61. Risk remains: supply chain delays, a strong dollar and weak
demand in Europe could weigh on sales. Management said orders improved in
the last weeks of the quarter and guided for growth of 8% to 10% next year.

Volatility rose as traders priced in the earnings report. Options implied a
move of about 7% in either direction. Short interest stood at 3.8% of the
float. The stock trades at 24 times forward earnings, above its five-year
average of 19, and at a premium to peers. Cash and equivalents were 14.7
billion against total debt of 9.9 billion.
"""

GPT2_SPLIT = re.compile(
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?[^\s\w]+|\d|\s+(?!\S)|\s+")


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1))
          + list(range(0xAE, 0xFF + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def pseudo_words(count):
    """Deterministic made-up words (a linear congruential generator)."""
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
              "t", "v", "w", "z", "br", "cr", "st", "tr", "pl", "gr", "sh", "ch"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
    codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck"]
    x = 2463534242
    out = []
    for _ in range(count):
        syl = []
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        nsyl = 1 + (x >> 33) % 4
        for _ in range(nsyl):
            x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            r = x >> 20
            syl.append(onsets[r % len(onsets)] + vowels[(r // 31) % len(vowels)]
                       + codas[(r // 997) % len(codas)])
        w = "".join(syl)
        if (x >> 40) % 5 == 0:
            w = w.capitalize()
        out.append(" " + w)
    return out


def train(word_freq, n_tokens, vocab):
    """BPE merges until the vocabulary holds n_tokens tokens."""
    words = [list(w) for w in word_freq]
    freqs = list(word_freq.values())
    count = collections.Counter()
    where = collections.defaultdict(set)
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            count[p] += freqs[i]
            where[p].add(i)
    heap = [(-c, p) for p, c in count.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < n_tokens and heap:
        c, p = heapq.heappop(heap)
        if count.get(p, 0) != -c or c == 0:
            continue
        merges.append(p)
        new = p[0] + p[1]
        if new not in vocab:
            vocab[new] = len(vocab)
        touched = set()
        for i in sorted(where.pop(p, ())):
            w, f = words[i], freqs[i]
            for q in zip(w, w[1:]):
                count[q] -= f
                touched.add(q)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == p[0] and w[j + 1] == p[1]:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for q in zip(out, out[1:]):
                count[q] += f
                where[q].add(i)
                touched.add(q)
        count.pop(p, None)
        for q in sorted(touched):
            if count.get(q, 0) > 0:
                heapq.heappush(heap, (-count[q], q))
    return merges


def main():
    ap = argparse.ArgumentParser(description="write a tiny byte-level BPE tokenizer")
    ap.add_argument("outdir")
    ap.add_argument("--vocab", type=int, default=300)
    ap.add_argument("--pair-merges", action="store_true")
    a = ap.parse_args()
    if a.vocab < len(SPECIALS) + 256:
        sys.exit("make_tiny_tokenizer.py: --vocab must be at least %d" % (len(SPECIALS) + 256))
    b2u = bytes_to_unicode()
    vocab = {}
    for s in SPECIALS:
        vocab[s] = len(vocab)
    for b in range(256):
        vocab[b2u[b]] = len(vocab)
    freq = collections.Counter()
    for piece in GPT2_SPLIT.findall(CORPUS):
        freq[piece] += 20
    need = a.vocab - len(vocab)
    if need > 400:
        for w in pseudo_words(need * 2):
            freq[w] += 1
    word_freq = collections.OrderedDict()
    for piece in sorted(freq):
        word_freq[tuple(b2u[b] for b in piece.encode("utf-8"))] = freq[piece]
    merges = train(word_freq, a.vocab, vocab)
    if len(vocab) < a.vocab:
        sys.exit("make_tiny_tokenizer.py: the corpus supports only %d tokens" % len(vocab))
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                           "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab,
                  "merges": [list(m) if a.pair_merges else m[0] + " " + m[1]
                             for m in merges]},
    }
    template = (
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
        "Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
        "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
        "{{ '<|im_start|>assistant\n' }}{% endif %}")
    cfg = {"add_prefix_space": False, "bos_token": "<|im_start|>",
           "chat_template": template, "clean_up_tokenization_spaces": False,
           "eos_token": "<|im_end|>", "model_max_length": 8192,
           "pad_token": "<|im_end|>", "tokenizer_class": "GPT2Tokenizer",
           "unk_token": "<|endoftext|>", "vocab_size": a.vocab}
    os.makedirs(a.outdir, exist_ok=True)
    for name, obj in (("tokenizer.json", tok), ("tokenizer_config.json", cfg)):
        path = os.path.join(a.outdir, name)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=2 if name != "tokenizer.json" else None)
            f.write("\n")
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
