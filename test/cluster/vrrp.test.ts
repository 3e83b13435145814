// Redundant load balancers: two hosts (network namespaces) each run switchyard and keepalived with
// examples/keepalived/keepalived.conf, sharing a virtual IP by VRRP; a client in a third namespace uses
// the VIP. SIGKILL the holder's switchyard (every process of it): its health check fails, the VIP moves to
// the other host, and the client is answered again within a few seconds. Root only (CI runs as root).
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CLI, tempDir, type TempDir } from '../helpers/daemon.js';
import { MARKER_ENV, markedProcesses, NODE_APP } from '../helpers/deploy-harness.js';
import { createLab, netnsUnavailable, type Lab } from '../helpers/netns.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/keepalived/keepalived.conf', import.meta.url));
const CLIENT = fileURLToPath(new URL('../fixtures/cluster/vip-client.mjs', import.meta.url));
const HAS_TOOLS = spawnSync('sh', ['-c', 'command -v keepalived && command -v curl'], { stdio: 'ignore' }).status === 0;
const why = netnsUnavailable() ?? (HAS_TOOLS ? null : 'keepalived or curl is missing (.ci/run installs them)');
if (why !== null) console.error(`\n*** vrrp test SKIPPED: ${why} ***\n`);

describe('redundant load balancers (keepalived, VRRP)', { skip: why ?? false }, () => {
  let lab: Lab;
  let tmp: TempDir;
  const children: ChildProcess[] = [];
  let vip: string;

  const start = (argv: string[], env: Record<string, string> = {}) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    child.stderr.resume();
    children.push(child);
    return child;
  };
  const get = async (url: string) => {
    try {
      const { stdout } = await run('ip', ['netns', 'exec', lab.ns.client!, 'curl', '-s', '-m', '1', url]);
      return (JSON.parse(stdout) as { version?: string }).version ?? null;
    } catch {
      return null;
    }
  };
  const killHost = (host: string) => {
    for (const pid of markedProcesses(`${tmp.dir}:${host}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  };

  before(async () => {
    lab = createLab(['a', 'b', 'client']);
    vip = `${lab.subnet}.100`;
    tmp = await tempDir('switchyard-vrrp-');
    const example = readFileSync(EXAMPLE, 'utf8');
    const keepalived: { host: string; conf: string }[] = [];
    for (const [host, priority] of [['a', 150], ['b', 100]] as const) {
      const config = [
        'proxy: { listen: 0.0.0.0:8080 }',
        'admin: { listen: 127.0.0.1:8081 }',
        `state: ${join(tmp.dir, host)}`,
        'services:',
        '  web:',
        `    run: { command: node ${NODE_APP}, version: v1, env: { APP_VERSION: host-${host} } }`,
        '    instances: 1',
        '    health: { path: /healthz, interval: 200ms }',
        '',
      ].join('\n');
      const file = await tmp.write(`${host}.yaml`, config);
      start(lab.exec(host, [process.execPath, CLI, 'up', '-c', file]), { [MARKER_ENV]: `${tmp.dir}:${host}` });
      const conf = example.replace('10.0.0.100/24', `${vip}/24`).replace('priority 150', `priority ${priority}`);
      keepalived.push({ host, conf: await tmp.write(`keepalived-${host}.conf`, conf) });
    }
    for (const host of ['a', 'b']) {
      await waitFor(async () => (await get(`http://${lab.address[host]}:8080/`)) === `host-${host}`, { timeout: 30_000, interval: 200, message: `switchyard on ${host} to serve` });
    }
    // Only once both serve: with nopreempt, whichever host is healthy first keeps the address.
    for (const { host, conf } of keepalived) {
      const pids = ['keepalived', 'vrrp'].map((name) => join(tmp.dir, `${host}-${name}.pid`));
      start(lab.exec(host, ['keepalived', '--dont-fork', '--log-console', '--vrrp', '-f', conf, '-p', pids[0]!, '-r', pids[1]!]));
    }
  });

  after(async () => {
    for (const host of ['a', 'b']) if (tmp) killHost(host);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => c.once('exit', resolve)) : Promise.resolve())));
    lab?.remove();
    await tmp?.remove();
  });

  it('moves the virtual IP to the other host when the holder’s switchyard dies', async (t) => {
    await waitFor(async () => (await get(`http://${vip}:8080/`)) === 'host-a', { timeout: 20_000, interval: 200, message: 'the VIP on host a (the higher priority)' });
    const client = spawn('ip', ['netns', 'exec', lab.ns.client!, process.execPath, CLIENT, `http://${vip}:8080/`, '30000', 'host-b'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(client);
    let output = '';
    client.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    const ended = new Promise((resolve) => client.once('exit', resolve));
    await waitFor(() => output.includes('"first":"host-a"'), { timeout: 20_000, message: 'the client to be answered by host a' });
    killHost('a');
    await ended;
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as { versions: Record<string, number>; failed: number; retried: number; longestGapMs: number };
    t.diagnostic(`VIP failover: longest time without an answer ${report.longestGapMs} ms; ${report.retried} retried, ${report.failed} failed after the retry; answers ${JSON.stringify(report.versions)}`);
    assert.ok((report.versions['host-a'] ?? 0) > 0 && (report.versions['host-b'] ?? 0) > 0, JSON.stringify(report));
    // keepalived's defaults: 2 failed checks at 1 s, then a VRRP hand-over; slack for a loaded machine.
    assert.ok(report.longestGapMs < 6000, `the VIP answered again only after ${report.longestGapMs} ms`);
  });
});
