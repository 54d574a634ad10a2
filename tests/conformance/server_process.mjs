// Starts `$INGOT_BIN serve` on a free loopback port for a conformance suite and stops it.
// The model is $INGOT_CONFORMANCE_MODEL when set, else the binary's default (the shipped
// models/ingot-tiny). A server that cannot start fails the suite loudly, with its stderr.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const API_KEY = 'sk-ingot-conformance';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function ingotBin() {
  const bin = process.env.INGOT_BIN;
  if (!bin) throw new Error('INGOT_BIN is not set: run this suite through ctest, or set INGOT_BIN=build/<dir>/bin/ingot');
  return path.resolve(bin);
}

// Returns { child, port, baseURL, logs(), exited (a promise of {code, signal}), stop() }.
export async function startServer(extraArgs = [], { startTimeoutMs = 90_000 } = {}) {
  const port = await freePort();
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--api-key', API_KEY,
                '--max-body', '1MiB', '--shutdown-timeout', '20', ...extraArgs];
  if (process.env.INGOT_CONFORMANCE_MODEL) args.push('-m', process.env.INGOT_CONFORMANCE_MODEL);
  const child = spawn(ingotBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d) => { output += d.toString(); if (output.length > 200_000) output = output.slice(-100_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  exited.then(() => { hasExited = true; });
  const baseURL = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (hasExited) return;
    child.kill('SIGKILL');
    await exited;
  };
  process.once('exit', () => { if (!hasExited) child.kill('SIGKILL'); });

  const deadline = Date.now() + startTimeoutMs;
  let sawLoading = false;
  for (;;) {
    if (hasExited) {
      throw new Error(`ingot serve exited before it was ready (args: ${args.join(' ')}):\n${output}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ingot serve was not ready within ${startTimeoutMs} ms:\n${output}`);
    }
    try {
      const res = await fetch(`${baseURL}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await res.json();
      if (res.status === 200 && body.status === 'ok') break;
      if (res.status === 503 && body.status === 'loading') sawLoading = true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return { child, port, baseURL, exited, stop, sawLoading, logs: () => output };
}
