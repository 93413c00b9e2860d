#!/usr/bin/python3
"""bpe_ref.py: an independent reference for fa_tokenizer, written the
textbook way: the GPT-2 split by Debian's python3-regex, the byte-to-unicode
table, and GPT-2's original merge loop (merge every occurrence of the best
ranked pair, repeat).

    bpe_ref.py TOKENIZER.JSON < lines

Each input line is the hex of a text's bytes (which need not be UTF-8:
undecodable bytes go through as surrogate escapes, class "other"); each
output line is that text's ids, space-separated. Supports what SmolLM2's
file uses: added tokens (non-normalized ones first, leftmost-longest), the
Digits and ByteLevel pre-tokenizers, and BPE with "a b" or [a, b] merges.
"""
import json
import sys
import unicodedata

import regex

PAT = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class Ref:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        model = tj["model"]
        assert model.get("type", "BPE") == "BPE"
        self.vocab = model["vocab"]
        self.ranks = {}
        for i, m in enumerate(model.get("merges") or []):
            a, b = m.split(" ") if isinstance(m, str) else m
            self.ranks[(a, b)] = i
        self.ignore_merges = bool(model.get("ignore_merges"))
        # Added tokens' ids as the tokenizers library assigns them on load:
        # an existing added token's or the vocabulary's id for the same
        # content, else the next free one (the file's ids are not used).
        ids, norm = {}, {}
        for t in tj.get("added_tokens") or []:
            c = t["content"]
            if not c:
                continue
            norm[c] = bool(t.get("normalized", True))
            if c in ids:
                continue
            if c in self.vocab:
                ids[c] = self.vocab[c]
            elif not ids:
                ids[c] = len(self.vocab)
            else:
                top = max(ids.values())
                ids[c] = top + 1 if top >= len(self.vocab) or not self.vocab else len(self.vocab)
        self.added = [(c, ids[c], norm[c]) for c in ids]
        pre = tj["pre_tokenizer"]
        steps = pre["pretokenizers"] if pre["type"] == "Sequence" else [pre]
        self.digits = None
        for s in steps:
            if s["type"] == "Digits":
                self.digits = bool(s.get("individual_digits"))
            elif s["type"] == "ByteLevel":
                self.prefix = s.get("add_prefix_space", True)
                self.use_regex = s.get("use_regex", True)
        self.b2u = bytes_to_unicode()
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        if self.ignore_merges and token in self.vocab:
            return [token]
        word = tuple(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new.extend(word[i:])
                    break
                new.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        self.cache[token] = list(word)
        return self.cache[token]

    def byte_level(self, piece, out):
        if not piece:
            return
        if self.prefix and not piece.startswith(" "):
            piece = " " + piece
        parts = PAT.findall(piece) if self.use_regex else [piece]
        for p in parts:
            s = "".join(self.b2u[b] for b in p.encode("utf-8", "surrogateescape"))
            out.extend(self.vocab[t] for t in self.bpe(s))

    def pretok(self, seg, out):
        if self.digits is None:
            return self.byte_level(seg, out)
        cur = ""
        i = 0
        while i < len(seg):
            c = seg[i]
            if unicodedata.category(c)[0] == "N":
                self.byte_level(cur, out)
                cur = ""
                j = i + 1
                if not self.digits:
                    while j < len(seg) and unicodedata.category(seg[j])[0] == "N":
                        j += 1
                self.byte_level(seg[i:j], out)
                i = j
            else:
                cur += c
                i += 1
        self.byte_level(cur, out)

    def split_added(self, text, normalized, out):
        toks = sorted([(c, i) for c, i, nm in self.added if nm == normalized],
                      key=lambda x: -len(x[0]))
        if not toks:
            return self.next_pass(text, normalized, out)
        pat = regex.compile("|".join(regex.escape(c) for c, _ in toks))
        ids = {c: i for c, i in toks}
        pos = 0
        for m in pat.finditer(text):
            self.next_pass(text[pos:m.start()], normalized, out)
            out.append(ids[m.group(0)])
            pos = m.end()
        self.next_pass(text[pos:], normalized, out)

    def next_pass(self, text, normalized, out):
        if not normalized:
            self.split_added(text, True, out)
        else:
            self.pretok(text, out)

    def encode(self, data):
        out = []
        self.split_added(data.decode("utf-8", "surrogateescape"), False, out)
        return out


def main():
    ref = Ref(sys.argv[1])
    for line in sys.stdin:
        ids = ref.encode(bytes.fromhex(line.strip()))
        sys.stdout.write(" ".join(map(str, ids)) + "\n")


if __name__ == "__main__":
    main()
