// Unigram tokenizer.json import, against two JS references at once: @lenml/tokenizers (a port
// of transformers.js) and @huggingface/tokenizers. No npm package ships a real Unigram
// tokenizer.json these libraries read exactly (T5/ALBERT/XLNet use a Precompiled SentencePiece
// charsmap, which both libraries only approximate with NFKC and ingot refuses), so the
// vocabulary is hand-made: tokenizer_unigram/ (make_tokenizer.py). Four variants of its
// Metaspace/normalizer settings are converted to vocab-only GGUFs by `ingot tokenize
// --write-vocab` and encode the shared corpus (2,240 strings: many scripts, unknown characters,
// emoji, whitespace runs, special-token text, invalid UTF-8) plus a few hand-picked strings:
// ids must equal both references', and ingot's decode must equal @lenml's decode of those ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { makeCorpus } from "./tokenizer_corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.INGOT_BIN;
const fixture = path.join(here, "tokenizer_unigram");

const variants = {
  always: (t) => t,
  first: (t) => {
    t.pre_tokenizer.prepend_scheme = "first";
    return t;
  },
  never: (t) => {
    t.pre_tokenizer.prepend_scheme = "never";
    t.pre_tokenizer.add_prefix_space = false;
    t.decoder.prepend_scheme = "never";
    t.decoder.add_prefix_space = false;
    return t;
  },
  nfc: (t) => {
    t.normalizer = { type: "NFC" };
    return t;
  },
};

// Ties, runs of unknown characters (fused into one <unk>), leading spaces and specials.
const extra = ["xy", " xy", "xyxy", "axy", "x y", "🦙🦙🦙", "a🦙b", "🦙 🦙", "  leading", "trailing  ",
  "</s>hello", "hello</s>", "</s> hello</s>world", "<unk><unk>", "<pad>", "\t\n\r", "", " ", "   ",
  "naïve café über Straße", "Привет мир", "你好世界", "abc123", "x".repeat(300), "Hello world ".repeat(100)];

function ingot(args, input) {
  const r = spawnSync(bin, args, { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ingot ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r;
}

const skip = !bin || !fs.existsSync(bin) ? "INGOT_BIN is not set or missing" : false;

for (const [name, change] of Object.entries(variants)) {
  test(`unigram tokenizer parity: ${name}`, { skip, timeout: 600_000 }, () => {
    const tokenizerJSON = change(JSON.parse(fs.readFileSync(path.join(fixture, "tokenizer.json"), "utf8")));
    const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(fixture, "tokenizer_config.json"), "utf8"));
    const lenml = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
    const hf = new HfTokenizer(tokenizerJSON, tokenizerConfig);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ingot-ugm-"));
    fs.writeFileSync(path.join(tmp, "tokenizer.json"), JSON.stringify(tokenizerJSON));
    fs.writeFileSync(path.join(tmp, "tokenizer_config.json"), JSON.stringify(tokenizerConfig));
    const vocabPath = path.join(tmp, "vocab.gguf");
    ingot(["tokenize", "--hf-dir", tmp, "--write-vocab", vocabPath]);

    const corpus = [...makeCorpus(tokenizerJSON.added_tokens.map((t) => t.content)),
      ...extra.map((text) => ({ text }))];
    const lines = corpus.map((c) => c.bytes ? JSON.stringify({ hex: Buffer.from(c.bytes).toString("hex") })
      : JSON.stringify({ text: c.text }));
    const out = ingot(["tokenize", "-m", vocabPath, "--jsonl"], lines.join("\n") + "\n").stdout
      .split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.equal(out.length, corpus.length);

    const decoder = new TextDecoder("utf-8", { fatal: false });
    const mismatches = [];
    const references = [];
    const decodes = [];
    let n_unk = 0;
    for (let i = 0; i < corpus.length; ++i) {
      const text = corpus[i].bytes ? decoder.decode(corpus[i].bytes) : corpus[i].text;
      const expected = Array.from(lenml.encode(text, { add_special_tokens: false }));
      const other = hf.encode(text, { add_special_tokens: false }).ids;
      const got = out[i].ids;
      n_unk += got.filter((id) => id === tokenizerJSON.model.unk_id).length;
      if (JSON.stringify(other) !== JSON.stringify(expected)) {
        references.push(`#${i} ${JSON.stringify(text)}\n   lenml: ${expected.join(" ")}\n   hf:    ${other.join(" ")}`);
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        mismatches.push(`#${i} ${JSON.stringify(text)}\n   ours: ${got.join(" ")}\n   ref:  ${expected.join(" ")}`);
      }
      const decoded = expected.length > 0 ? lenml.decode(expected, { skip_special_tokens: false }) : "";
      if (out[i].decoded !== decoded) {
        decodes.push(`#${i} ${JSON.stringify(text)}: ours ${JSON.stringify(out[i].decoded)}, ref ${JSON.stringify(decoded)}`);
      }
    }
    console.log(`unigram ${name}: ${corpus.length} strings (${n_unk} unk ids), ${mismatches.length} id mismatches, ` +
      `${decodes.length} decode differences; the two references differ on ${references.length}`);
    assert.equal(references.length, 0, "the references disagree:\n" + references.slice(0, 10).join("\n"));
    assert.equal(mismatches.length, 0, "ids differ from the reference:\n" + mismatches.slice(0, 15).join("\n"));
    assert.equal(decodes.length, 0, "decode differs from the reference:\n" + decodes.slice(0, 15).join("\n"));
  });
}
