#!/usr/bin/env python3
"""Writes tokenizer.json + tokenizer_config.json: a small hand-made Unigram vocabulary (no real
model ships one that the JS references read exactly; see tests/reference/tokenizer_unigram.test.mjs).
Pieces: specials, ▁, single characters of a few scripts (others stay unknown, so runs of unknowns
fuse), English words and subwords, a little Cyrillic, Greek, CJK and digits, and a tie
("x" + "y" scores exactly as "xy"). Scores are multiples of 1/4096, exact in float32, so the
Viterbi sums are exact in double. Deterministic; run: python3 make_tokenizer.py DIR"""
import json
import random
import sys

SP = "\u2581"
rnd = random.Random(20261125)


def score(base, spread=1.5):
    return -round((base + rnd.random() * spread) * 4096) / 4096


pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), (SP, -2.0)]
seen = {p for p, _ in pieces}


def add(piece, s):
    if piece not in seen:
        seen.add(piece)
        pieces.append((piece, s))


chars = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
         ".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`"
         "éèêëàâäçñöüßøåæœłı" "абвгдеёжзийклмнопрстуфхцчшщъыьэюяПМСУЁЛКА" "αβγδεζηθικλμνξοπρστυφχψωΓΕΑ"
         "你好世界我想在工作天中文字符测试日本語のテキストカタ")
for c in chars:
    add(c, score(8.0, 2.0))
words = ["the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "Hello", "hello", "world", "World",
         "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "int", "main", "return", "def", "if", "for",
         "class", "don", "t", "I", "LL", "we", "ve", "they", "re", "she", "s", "code", "test", "text", "café",
         "naïve", "über", "Straße", "a", "b", "x", "1", "12", "2026", "3"]
for w in words:
    add(SP + w, score(3.0, 3.0))
subwords = ["th", "he", "in", "an", "re", "on", "er", "ing", "ed", "tion", "es", "or", "ll", "ou", "ck",
            "ow", "qu", "ump", "azy", "orld", "ello", "ain", "urn", "ode", "est", "ex", "12", "123", "00",
            "34", "56", "99", "ab", "abc", "вет", "При", "мир", "ещё", "κό", "σμε", "你好", "世界", "工作",
            "日本", "テキスト", "'s", "'t", "();", "{}", "//", "==", "->", "::", "++", "..."]
for w in subwords:
    add(w, score(4.0, 4.0))
# A tie: "xy" scores exactly score("x") + score("y") (the reference keeps the longer, earlier-starting piece).
sx = dict(pieces)["x"]
add("y", score(8.0, 2.0))
add("xy", sx + dict(pieces)["y"])

tokenizer = {
    "version": "1.0",
    "truncation": None,
    "padding": None,
    "added_tokens": [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": True} for i, t in enumerate(["<pad>", "</s>", "<unk>"])
    ],
    "normalizer": None,
    "pre_tokenizer": {"type": "Metaspace", "replacement": SP, "add_prefix_space": True,
                      "prepend_scheme": "always", "split": True},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}},
    },
    "decoder": {"type": "Metaspace", "replacement": SP, "add_prefix_space": True, "prepend_scheme": "always",
                "split": True},
    "model": {"type": "Unigram", "unk_id": 2, "vocab": [[p, s] for p, s in pieces], "byte_fallback": False},
}
config = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "tokenizer_class": "T5Tokenizer",
          "model_max_length": 512, "clean_up_tokenization_spaces": False}
out = sys.argv[1] if len(sys.argv) > 1 else "."
with open(f"{out}/tokenizer.json", "w", encoding="utf-8") as f:
    json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    f.write("\n")
with open(f"{out}/tokenizer_config.json", "w", encoding="utf-8") as f:
    json.dump(config, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{len(pieces)} pieces")
