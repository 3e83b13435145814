// `npm run demo`: switchyard in front of two instances of the example app. Sends a bounded burst of
// traffic, prints what it saw, and stops everything (or stays up with --stay until Ctrl-C).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';

const stay = process.argv.includes('--stay');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
const children: ChildProcess[] = [];

function start(command: string, args: string[], env: Record<string, string>, label: string): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => process.stdout.write(`[${label}] ${d.toString()}`));
  child.stderr?.on('data', (d: Buffer) => process.stdout.write(`[${label}] ${d.toString()}`));
  children.push(child);
  return child;
}

async function waitUntilUp(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(url);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not yet listening
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up within ${deadlineMs} ms`);
}

function stopAll(): void {
  for (const child of children) if (child.pid && child.exitCode === null) child.kill('SIGTERM');
}

process.on('SIGINT', () => {
  stopAll();
  process.exit(0);
});

const config = join(dir, 'switchyard.yaml');
writeFileSync(
  config,
  `proxy:\n  listen: 127.0.0.1:8080\n  accessLog: { enabled: false }\nadmin:\n  listen: 127.0.0.1:8081\nstate: ${dir}/state\n` +
    `services:\n  web:\n    targets: [127.0.0.1:3101, 127.0.0.1:3102]\n    health: { path: /healthz, interval: 1s }\n`,
);
for (const port of [3101, 3102]) {
  start(process.execPath, ['examples/node-app/server.mjs'], { PORT: String(port), APP_VERSION: `v1@${port}` }, `app:${port}`);
}
start(process.execPath, ['dist/cli/main.js', 'up', '-c', config], {}, 'switchyard');
try {
  await waitUntilUp('http://127.0.0.1:8080/', 15_000);
  const seen = new Map<string, number>();
  let failed = 0;
  const total = 500;
  for (let i = 0; i < total; i++) {
    const res = await request('http://127.0.0.1:8080/');
    const body = (await res.body.json()) as { version?: string };
    if (res.statusCode !== 200) failed++;
    seen.set(body.version ?? '?', (seen.get(body.version ?? '?') ?? 0) + 1);
  }
  console.log(`\nsent ${total} requests through switchyard: ${total - failed} ok, ${failed} failed`);
  for (const [version, count] of seen) console.log(`  ${version}: ${count}`);
  if (stay) {
    console.log('\nswitchyard: http://127.0.0.1:8080  admin: http://127.0.0.1:8081/metrics  (Ctrl-C to stop)');
  } else {
    stopAll();
    process.exitCode = failed === 0 ? 0 : 1;
  }
} catch (err) {
  console.error(err);
  stopAll();
  process.exitCode = 1;
}
