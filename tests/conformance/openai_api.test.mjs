// Conformance of `ingot serve` with the official OpenAI client (openai 6.30.1, pinned): chat and
// completions, streamed and not; stop strings; seeds; logprobs; usage arithmetic; n; tokenize;
// every request error with its status and OpenAI's error shape (raw fetch); 32 concurrent
// streams; 8 streams aborted mid-way leave no KV block in use (/metrics); SIGTERM drains a
// running request and exits 0. Runs against the shipped tiny model (or $INGOT_CONFORMANCE_MODEL).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { API_KEY, startServer } from './server_process.mjs';

const T = { timeout: 60_000 };
let server;
let client;
let modelId;

const auth = { Authorization: `Bearer ${API_KEY}` };
const MESSAGES = [{ role: 'user', content: 'Who begat Enoch?' }];
const PROMPT = 'In the beginning God created';

async function post(path, body, headers = auth) {
  const res = await fetch(server.baseURL + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

function assertErrorShape(r, status, what) {
  assert.equal(r.status, status, `${what}: status ${r.status}, body ${r.text}`);
  assert.ok(r.json && typeof r.json.error === 'object', `${what}: no error object in ${r.text}`);
  const e = r.json.error;
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  assert.ok('param' in e && 'code' in e, `${what}: error lacks param/code: ${r.text}`);
}

async function metric(name, labels = '') {
  const res = await fetch(`${server.baseURL}/metrics`, { headers: auth });
  assert.equal(res.status, 200);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(name + labels + ' '));
  assert.ok(line, `metric ${name}${labels} not found in:\n${text}`);
  return Number(line.split(' ').pop());
}

async function collectChat(params, options) {
  const stream = await client.chat.completions.create({ ...params, stream: true }, options);
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('ingot serve with the openai client', () => {
  before(async () => {
    server = await startServer(['--max-seqs', '16', '--ctx-size', '256', '--http-threads', '96']);
    client = new OpenAI({ baseURL: `${server.baseURL}/v1`, apiKey: API_KEY, maxRetries: 0, timeout: 60_000 });
    const models = await client.models.list();
    modelId = models.data[0].id;
  });

  after(async () => { if (server) await server.stop(); });

  it('GET /health is open and /v1/models lists the model', T, async () => {
    const res = await fetch(`${server.baseURL}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    const models = await client.models.list();
    assert.equal(models.data.length, 1);
    assert.equal(models.data[0].object, 'model');
    assert.equal(typeof models.data[0].id, 'string');
  });

  it('chat completion, not streamed: shape and usage arithmetic', T, async () => {
    const r = await client.chat.completions.create({ model: modelId, messages: MESSAGES, max_tokens: 12, temperature: 0 });
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.object, 'chat.completion');
    assert.equal(typeof r.created, 'number');
    assert.equal(r.model, modelId);
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].index, 0);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.ok(r.usage.prompt_tokens > 0);
    assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
    if (r.choices[0].finish_reason === 'length') assert.equal(r.usage.completion_tokens, 12);
  });

  it('chat completion, streamed: role first, same text and usage as not streamed', T, async () => {
    const params = { model: modelId, messages: MESSAGES, max_tokens: 12, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const chunks = await collectChat({ ...params, stream_options: { include_usage: true } });
    assert.ok(chunks.length >= 3);
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    assert.match(chunks[0].id, /^chatcmpl-/);
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, whole.usage);
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    assert.equal(text, whole.choices[0].message.content);
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f);
    assert.deepEqual(finishes, [whole.choices[0].finish_reason]);
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
  });

  it('completions, streamed and not, agree; prompt as token ids works', T, async () => {
    const params = { model: modelId, prompt: PROMPT, max_tokens: 10, temperature: 0 };
    const whole = await client.completions.create(params);
    assert.match(whole.id, /^cmpl-/);
    assert.equal(whole.object, 'text_completion');
    assert.equal(typeof whole.choices[0].text, 'string');
    assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);
    const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage = null;
    let finish = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'text_completion');
      for (const ch of chunk.choices) { text += ch.text; if (ch.finish_reason) finish = ch.finish_reason; }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, whole.choices[0].text);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
    const tok = await post('/tokenize', { content: PROMPT, add_special: true });
    assert.equal(tok.status, 200);
    const byIds = await client.completions.create({ ...params, prompt: tok.json.tokens });
    assert.equal(byIds.choices[0].text, whole.choices[0].text);
    assert.equal(byIds.usage.prompt_tokens, tok.json.tokens.length);
  });

  it('stop strings end the text before the match', T, async () => {
    const params = { model: modelId, prompt: PROMPT, max_tokens: 24, temperature: 0, ignore_eos: true };
    const free = (await client.completions.create(params)).choices[0].text;
    assert.ok(free.length >= 8, `too little text to pick a stop string from: ${JSON.stringify(free)}`);
    const stop = free.slice(4, 7);
    const cut = free.indexOf(stop);
    const r = await client.completions.create({ ...params, stop: [stop, 'zzzzqqq'] });
    assert.equal(r.choices[0].text, free.slice(0, cut));
    assert.equal(r.choices[0].finish_reason, 'stop');
    const single = await client.completions.create({ ...params, stop });
    assert.equal(single.choices[0].text, free.slice(0, cut));
  });

  it('the same seed gives the same text at temperature > 0', T, async () => {
    const params = { model: modelId, messages: MESSAGES, max_tokens: 16, temperature: 1.0, top_p: 0.95 };
    const a = await client.chat.completions.create({ ...params, seed: 1234 });
    const b = await client.chat.completions.create({ ...params, seed: 1234 });
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    const texts = new Set();
    for (const seed of [1, 2, 3]) texts.add((await client.chat.completions.create({ ...params, seed })).choices[0].message.content);
    assert.ok(texts.size > 1, 'three different seeds gave the same text');
  });

  it('logprobs: chat content[] and completions arrays', T, async () => {
    const chat = await client.chat.completions.create({ model: modelId, messages: MESSAGES, max_tokens: 6, temperature: 0,
                                                        logprobs: true, top_logprobs: 3 });
    const content = chat.choices[0].logprobs.content;
    assert.equal(content.length, chat.usage.completion_tokens);
    for (const e of content) {
      assert.equal(typeof e.token, 'string');
      assert.ok(e.logprob <= 0);
      assert.ok(Array.isArray(e.bytes));
      assert.equal(e.top_logprobs.length, 3);
      for (const t of e.top_logprobs) { assert.equal(typeof t.token, 'string'); assert.ok(t.logprob <= 0); assert.ok(Array.isArray(t.bytes)); }
      // Greedy: the chosen token is the most likely one.
      assert.ok(e.logprob >= e.top_logprobs[0].logprob - 1e-4);
    }
    const comp = await client.completions.create({ model: modelId, prompt: PROMPT, max_tokens: 6, temperature: 0, logprobs: 2 });
    const lp = comp.choices[0].logprobs;
    const n = comp.usage.completion_tokens;
    assert.equal(lp.tokens.length, n);
    assert.equal(lp.token_logprobs.length, n);
    assert.equal(lp.top_logprobs.length, n);
    assert.equal(lp.text_offset.length, n);
    for (const top of lp.top_logprobs) assert.equal(Object.keys(top).length <= 2, true);
    const streamed = await collectChat({ model: modelId, messages: MESSAGES, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 1 });
    const entries = streamed.flatMap((c) => c.choices.flatMap((ch) => ch.logprobs?.content ?? []));
    assert.equal(entries.length, content.length);
    assert.deepEqual(entries.map((e) => e.token), content.map((e) => e.token));
  });

  it('n choices each carry their index; usage counts the prompt once', T, async () => {
    const r = await client.chat.completions.create({ model: modelId, messages: MESSAGES, max_tokens: 5, n: 3, temperature: 0.9, seed: 7 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    const one = await client.chat.completions.create({ model: modelId, messages: MESSAGES, max_tokens: 5 });
    assert.equal(r.usage.prompt_tokens, one.usage.prompt_tokens);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    const chunks = await collectChat({ model: modelId, messages: MESSAGES, max_tokens: 4, n: 2 });
    const roles = chunks.flatMap((c) => c.choices.filter((ch) => ch.delta.role).map((ch) => ch.index));
    assert.deepEqual(roles.sort(), [0, 1]);
    const finished = chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason).map((ch) => ch.index));
    assert.deepEqual(finished.sort(), [0, 1]);
  });

  it('tokenize and detokenize round-trip', T, async () => {
    const t = await post('/tokenize', { content: 'And God said, Let there be light' });
    assert.equal(t.status, 200);
    assert.ok(t.json.tokens.length > 3);
    const d = await post('/detokenize', { tokens: t.json.tokens });
    assert.equal(d.status, 200);
    assert.equal(d.json.content, 'And God said, Let there be light');
    assertErrorShape(await post('/detokenize', { tokens: [1e9] }), 400, 'detokenize out of range');
  });

  it('request errors: status and OpenAI error shape', T, async () => {
    const chat = (extra) => ({ model: modelId, messages: MESSAGES, max_tokens: 4, ...extra });
    const cases = [
      ['malformed JSON', '/v1/chat/completions', '{"messages": [', 400],
      ['not an object', '/v1/chat/completions', '[1,2]', 400],
      ['invalid UTF-8', '/v1/completions', Buffer.concat([Buffer.from('{"prompt": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400],
      ['temperature < 0', '/v1/chat/completions', chat({ temperature: -1 }), 400],
      ['temperature > 2', '/v1/chat/completions', chat({ temperature: 2.5 }), 400],
      ['temperature type', '/v1/chat/completions', chat({ temperature: 'warm' }), 400],
      ['top_p 0', '/v1/chat/completions', chat({ top_p: 0 }), 400],
      ['top_p > 1', '/v1/chat/completions', chat({ top_p: 1.5 }), 400],
      ['n 0', '/v1/chat/completions', chat({ n: 0 }), 400],
      ['n huge', '/v1/chat/completions', chat({ n: 1000000 }), 400],
      ['max_tokens < 0', '/v1/chat/completions', chat({ max_tokens: -1 }), 400],
      ['max_tokens absurd', '/v1/chat/completions', chat({ max_tokens: 1e15 }), 400],
      ['stop not a string', '/v1/chat/completions', chat({ stop: 42 }), 400],
      ['stop list with a number', '/v1/chat/completions', chat({ stop: ['a', 1] }), 400],
      ['messages missing', '/v1/chat/completions', { model: modelId }, 400],
      ['messages empty', '/v1/chat/completions', { messages: [] }, 400],
      ['wrong role', '/v1/chat/completions', { messages: [{ role: 'wizard', content: 'x' }] }, 400],
      ['prompt missing', '/v1/completions', { max_tokens: 3 }, 400],
      ['prompt token out of range', '/v1/completions', { prompt: [1, 99999999] }, 400],
      ['logit_bias bad key', '/v1/completions', { prompt: 'x', logit_bias: { abc: 1 } }, 400],
      ['unknown model', '/v1/chat/completions', chat({ model: 'gpt-17-ultra' }), 404],
    ];
    for (const [what, path, body, status] of cases) assertErrorShape(await post(path, body), status, what);
    // A missing `model` is fine.
    assert.equal((await post('/v1/chat/completions', { messages: MESSAGES, max_tokens: 2 })).status, 200);
    // Keys.
    assertErrorShape(await post('/v1/chat/completions', chat({}), {}), 401, 'no key');
    assertErrorShape(await post('/v1/chat/completions', chat({}), { Authorization: 'Bearer sk-wrong' }), 401, 'wrong key');
    const bad = new OpenAI({ baseURL: `${server.baseURL}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e) => e.status === 401);
    assert.equal((await fetch(`${server.baseURL}/health`)).status, 200);
    // Routes and sizes.
    const route = await fetch(`${server.baseURL}/v1/nothing-here`, { headers: auth });
    assert.equal(route.status, 404);
    assert.ok((await route.json()).error);
    assertErrorShape(await post('/v1/completions', { prompt: 'x'.repeat(2 * 1024 * 1024) }), 413, 'body over the limit');
    // Context: prompt + max_tokens over --ctx-size 256, both numbers in the message.
    const tooLong = await post('/v1/completions', { prompt: PROMPT, max_tokens: 300 });
    assertErrorShape(tooLong, 400, 'over the context');
    const nPrompt = (await post('/tokenize', { content: PROMPT, add_special: true })).json.tokens.length;
    assert.match(tooLong.json.error.message, /256/);
    assert.match(tooLong.json.error.message, /300/);
    assert.match(tooLong.json.error.message, new RegExp(`\\b${nPrompt}\\b`));
    // The client raises typed errors with the status.
    await assert.rejects(client.chat.completions.create(chat({ temperature: 5 })), (e) => e.status === 400 && e.error?.param === 'temperature');
    await assert.rejects(client.chat.completions.create(chat({ model: 'nope' })), (e) => e.status === 404);
  });

  it('32 concurrent streams all complete', T, async () => {
    const runs = Array.from({ length: 32 }, (_, i) => collectChat({
      model: modelId, messages: [{ role: 'user', content: `Verse ${i}: who went up?` }], max_tokens: 8,
      temperature: 0.8, seed: i, stream_options: { include_usage: true },
    }));
    const results = await Promise.all(runs);
    for (const chunks of results) {
      const finish = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f);
      assert.equal(finish.length, 1);
      const usage = chunks[chunks.length - 1].usage;
      assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= 8);
    }
  });

  it('8 streams aborted mid-way free every KV block', T, async () => {
    const aborted = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
      const controller = new AbortController();
      const stream = await client.chat.completions.create({
        model: modelId, messages: [{ role: 'user', content: `Tell a long story, number ${i}` }],
        max_tokens: 200, ignore_eos: true, stream: true,
      }, { signal: controller.signal });
      let n = 0;
      try {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta?.content) n += 1;
          if (n >= 3) controller.abort();
        }
      } catch (e) {
        if (!(e.name === 'AbortError' || /abort/i.test(String(e)))) throw e;
      }
      return n;
    }));
    for (const n of aborted) assert.ok(n >= 3, 'a stream ended before it could be aborted');
    const deadline = Date.now() + 20_000;
    let used = -1;
    let running = -1;
    while (Date.now() < deadline) {
      used = await metric('ingot_kv_blocks', '{state="used"}');
      running = await metric('ingot_requests_running');
      if (used === 0 && running === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(used, 0, 'KV blocks still in use after the clients went away');
    assert.equal(running, 0);
    const cancelled = await metric('ingot_requests_finished_total', '{reason="cancelled"}');
    assert.ok(cancelled >= 8, `only ${cancelled} requests were cancelled`);
  });

  it('SIGTERM lets a running request finish, then exits 0', T, async () => {
    const running = post('/v1/completions', { prompt: PROMPT, max_tokens: 24, ignore_eos: true });
    await new Promise((r) => setTimeout(r, 150));
    server.child.kill('SIGTERM');
    const r = await running;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.usage.completion_tokens, 24);
    let timer;
    const { code, signal } = await Promise.race([
      server.exited,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no exit within 30 s of SIGTERM')), 30_000); }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(signal, null);
    assert.equal(code, 0, server.logs());
  });
});
