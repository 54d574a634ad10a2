#!/usr/bin/env node
// Load generator for `ingot serve` (or any OpenAI-compatible server): streamed requests at
// several concurrency levels, reporting output tokens/s, time to first token (TTFT) and
// inter-token latency (ITL) percentiles. Plain Node 18+ (fetch + a small SSE parser), no
// packages. Each level runs `--requests` requests (default: 2 x concurrency, at least 8) with
// `--concurrency` of them in flight at once; tokens are counted from the usage of the last chunk.
//
//   node bench/serve/loadgen.mjs --url http://127.0.0.1:8080 [--api-key K] [--levels 1,8,32,64]
//        [--max-tokens 64] [--endpoint chat|completions] [--json out.json]
//   node bench/serve/loadgen.mjs --bin build/release/bin/ingot [--serve-args "--max-seqs 64"] ...
//        (starts the server on a free port, waits for /health, stops it at the end)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

function parseArgs(argv) {
  const args = { url: '', apiKey: process.env.INGOT_API_KEY ?? '', levels: [1, 8, 32, 64], maxTokens: 64,
                 endpoint: 'chat', requests: 0, json: '', bin: '', serveArgs: '', model: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--url') args.url = next();
    else if (a === '--api-key') args.apiKey = next();
    else if (a === '--levels') args.levels = next().split(',').map(Number);
    else if (a === '--max-tokens') args.maxTokens = Number(next());
    else if (a === '--endpoint') args.endpoint = next();
    else if (a === '--requests') args.requests = Number(next());
    else if (a === '--json') args.json = next();
    else if (a === '--bin') args.bin = next();
    else if (a === '--serve-args') args.serveArgs = next();
    else if (a === '--model') args.model = next();
    else if (a === '-h' || a === '--help') { console.log(readmeUsage()); process.exit(0); }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.url && !args.bin) throw new Error('give --url of a running server or --bin of an ingot binary');
  if (!['chat', 'completions'].includes(args.endpoint)) throw new Error('--endpoint is chat or completions');
  return args;
}

function readmeUsage() {
  return 'usage: node bench/serve/loadgen.mjs (--url URL | --bin INGOT) [--levels 1,8,32,64] [--max-tokens N] ' +
         '[--requests N] [--endpoint chat|completions] [--api-key K] [--json FILE] [--serve-args "..."] [--model PATH]';
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function startServer(args) {
  const port = await freePort();
  const serveArgs = ['serve', '--host', '127.0.0.1', '--port', String(port),
                     ...args.serveArgs.split(' ').filter((s) => s), ...(args.model ? ['-m', args.model] : [])];
  const child = spawn(args.bin, serveArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d.toString(); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`ingot serve exited:\n${log}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 200) {
        const line = log.split('\n').find((l) => l.includes('listening on') && l.includes('backend')) ?? '';
        return { url, child, line: line.trim() };
      }
    } catch { /* not up yet */ }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`ingot serve was not ready in 120 s:\n${log}`);
}

// Streams one request; returns { ttft, gaps[], tokens, ok }. Times in ms.
async function oneRequest(args, i) {
  const headers = { 'Content-Type': 'application/json' };
  if (args.apiKey) headers.Authorization = `Bearer ${args.apiKey}`;
  const common = { max_tokens: args.maxTokens, temperature: 0.8, seed: i, ignore_eos: true, stream: true,
                   stream_options: { include_usage: true } };
  const body = args.endpoint === 'chat'
    ? { ...common, messages: [{ role: 'user', content: `Request ${i}: tell of the kings of Judah.` }] }
    : { ...common, prompt: `Request ${i}: And it came to pass, that` };
  const path = args.endpoint === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const t0 = performance.now();
  const res = await fetch(args.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status !== 200) return { ok: false, error: `HTTP ${res.status}: ${await res.text()}` };
  const decoder = new TextDecoder();
  let buffer = '';
  let ttft = -1;
  let last = -1;
  const gaps = [];
  let tokens = 0;
  for await (const part of res.body) {
    buffer += decoder.decode(part, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        if (chunk.error) return { ok: false, error: chunk.error.message };
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
        const text = (chunk.choices ?? []).map((c) => c.delta?.content ?? c.text ?? '').join('');
        if (text.length > 0) {
          const now = performance.now();
          if (ttft < 0) ttft = now - t0; else gaps.push(now - last);
          last = now;
        }
      }
    }
  }
  return { ok: true, ttft, gaps, tokens };
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

async function runLevel(args, concurrency) {
  const n = args.requests > 0 ? args.requests : Math.max(8, 2 * concurrency);
  let next = 0;
  const results = [];
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      results.push(await oneRequest(args, i));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.ok);
  const failed = results.filter((r) => !r.ok);
  const tokens = ok.reduce((s, r) => s + r.tokens, 0);
  const ttfts = ok.map((r) => r.ttft).filter((t) => t >= 0);
  const gaps = ok.flatMap((r) => r.gaps);
  return {
    concurrency, requests: n, ok: ok.length, failed: failed.length, first_error: failed[0]?.error ?? null,
    wall_s: wall, output_tokens: tokens, output_tokens_per_s: tokens / wall,
    ttft_p50_ms: percentile(ttfts, 50), ttft_p99_ms: percentile(ttfts, 99),
    itl_p50_ms: percentile(gaps, 50), itl_p99_ms: percentile(gaps, 99),
  };
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let server = null;
  if (!args.url) {
    server = await startServer(args);
    args.url = server.url;
    if (server.line) console.log(server.line);
  }
  console.log(`# ${new Date().toISOString()} ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
              `endpoint ${args.endpoint}, max_tokens ${args.maxTokens}, streamed, ignore_eos`);
  console.log('| concurrency | requests | failed | output tok/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | wall s |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const rows = [];
  try {
    await oneRequest({ ...args, maxTokens: 4 }, 9999);  // warm-up
    for (const c of args.levels) {
      const r = await runLevel(args, c);
      rows.push(r);
      console.log(`| ${c} | ${r.requests} | ${r.failed} | ${f1(r.output_tokens_per_s)} | ${f1(r.ttft_p50_ms)} | ` +
                  `${f1(r.ttft_p99_ms)} | ${f1(r.itl_p50_ms)} | ${f1(r.itl_p99_ms)} | ${f1(r.wall_s)} |`);
      if (r.first_error) console.log(`  first error: ${r.first_error}`);
    }
  } finally {
    if (server) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  }
  if (args.json) writeFileSync(args.json, JSON.stringify({ date: new Date().toISOString(), args, rows }, null, 2));
  if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
}

main().catch((e) => { console.error(e.message ?? e); process.exit(1); });
