#!/usr/bin/env python3
"""Reference CLIP tokenizer for bench_tokenizer and for diffing bt_tokenize by hand.

A re-statement of openai/CLIP's SimpleTokenizer.encode (no ftfy: fix_text is the identity, as in
shared/fixtures/tokenizer/README.md). With the `regex` module it uses CLIP's own pattern and flags;
without it (or with --stdlib-re), it uses the standard library `re` with explicit Unicode L/N classes
built from unicodedata: identical on ordinary text, different only where `re` and `regex` disagree
(`re`'s \s also matches U+001C-001F; IGNORECASE quirks such as U+0345).

Usage:
  tokenizer_reference.py --vocab bpe_simple_vocab_16e6.txt.gz [--jsonl] < lines.txt  # ids per line,
      # as `bt_tokenize --vocab ... --ids-only [--jsonl]` prints them
  tokenizer_reference.py --vocab ... --bench cases.jsonl [--repeat N]         # JSON with tokens/s
"""
import argparse
import functools
import gzip
import html
import json
import sys
import time


def bytes_to_unicode():
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


@functools.lru_cache()
def _unicode_class(categories):
    """A `re` character class body listing every code point whose category starts with one of
    `categories` (stand-in for \\p{L} / \\p{N} when the regex module is missing)."""
    import unicodedata
    ranges, start = [], None
    for cp in range(0x110000 + 1):
        inside = cp < 0x110000 and unicodedata.category(chr(cp))[0] in categories
        if inside and start is None:
            start = cp
        elif not inside and start is not None:
            ranges.append((start, cp - 1))
            start = None
    return "".join("\\U%08x-\\U%08x" % r for r in ranges)


def compile_pattern(stdlib_re):
    specials = r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|"
    try:
        if stdlib_re:
            raise ImportError("--stdlib-re")
        import regex
        return regex.compile(specials + r"[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", regex.IGNORECASE), regex
    except ImportError:
        import re
        letters, numbers = _unicode_class("L"), _unicode_class("N")
        return re.compile(specials + "[%s]+|[%s]|[^\\s%s%s]+" % (letters, numbers, letters, numbers),
                          re.IGNORECASE), re


class SimpleTokenizer:
    def __init__(self, bpe_path, stdlib_re=False):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in merges[1:49152 - 256 - 2 + 1]]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab.extend("".join(m) for m in merges)
        vocab.extend(["<|startoftext|>", "<|endoftext|>"])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat, self.re = compile_pattern(stdlib_re)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = set(zip(word, word[1:]))
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
            if len(word) == 1:
                break
            pairs = set(zip(word, word[1:]))
        result = " ".join(word)
        self.cache[token] = result
        return result

    def clean(self, text):
        text = html.unescape(html.unescape(text)).strip()
        return self.re.sub(r"\s+", " ", text).strip().lower()

    def encode(self, text):
        ids = []
        for token in self.pat.findall(self.clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vocab", required=True)
    parser.add_argument("--bench", help="cases.jsonl whose texts are timed")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stdlib-re", action="store_true", help="use `re` even if `regex` is installed")
    parser.add_argument("--jsonl", action="store_true", help="stdin lines are JSON strings or {\"text\": ...}")
    args = parser.parse_args()
    tokenizer = SimpleTokenizer(args.vocab, args.stdlib_re)
    if not args.bench:
        for line in sys.stdin:
            text = line.rstrip("\n")
            if args.jsonl:
                text = json.loads(text)
                text = text["text"] if isinstance(text, dict) else text
            print(json.dumps(tokenizer.encode(text)))
        return
    texts = [json.loads(line)["text"] for line in open(args.bench, encoding="utf-8")]
    start = time.perf_counter()
    tokens_per_pass = sum(len(tokenizer.encode(text)) for text in texts)  # empty word cache
    cold_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.repeat):
        for text in texts:
            tokenizer.encode(text)
    warm_seconds = time.perf_counter() - start
    print(json.dumps({"benchmark": "clip_bpe_encode", "implementation": "python " + tokenizer.re.__name__,
                      "texts": len(texts), "tokens_per_pass": tokens_per_pass,
                      "cold_pass_tokens_per_second": tokens_per_pass / cold_seconds,
                      "warm_passes": args.repeat,
                      "warm_tokens_per_second": tokens_per_pass * args.repeat / warm_seconds}, indent=2))

if __name__ == "__main__":
    main()
