// Switchyard as the system under test: a temp config for one service, `web`, running the Node example
// app with 2 instances, short health intervals and drain timeouts so a deploy takes seconds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort, spawnPinned, stop, waitForHttp200, type Spawned } from '../../proxy/processes.js';
import { AdminClient } from '../admin.js';

export const APP = resolve(import.meta.dirname, '../../../examples/node-app/server.mjs');

/** The knobs a deploy cycle depends on; in one place so the figures can say what they ran with. */
export const SWITCHYARD_SETTINGS = {
  instances: 2,
  healthInterval: '200ms',
  startTimeout: '4s',
  drainTimeout: '6s',
  stopTimeout: '3s',
  scaleDownDelay: '10s',
  canarySteps: '[ { weight: 20, pause: 2s }, { weight: 60, pause: 2s } ]',
  analysis: '{ interval: 1s, minRequests: 20, maxErrorRate: 5%, failureLimit: 1, inconclusiveLimit: 4, onInconclusive: pass }',
} as const;

export interface SwitchyardTarget {
  proc: Spawned;
  url: string;
  admin: AdminClient;
  adminUrl: string;
}

export function switchyardConfig(ports: { proxy: number; admin: number }, dir: string): string {
  const s = SWITCHYARD_SETTINGS;
  return `proxy:
  listen: 127.0.0.1:${ports.proxy}
  accessLog: { enabled: false }
admin:
  listen: 127.0.0.1:${ports.admin}
state: ${join(dir, 'state')}
services:
  web:
    run:
      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(APP)}]
      env: { APP_VERSION: "{version}" }
      version: v1
    instances: ${s.instances}
    health: { path: /healthz, interval: ${s.healthInterval}, timeout: 1s, startTimeout: ${s.startTimeout} }
    drain: { timeout: ${s.drainTimeout} }
    stop: { timeout: ${s.stopTimeout} }
    deploy:
      blueGreen: { scaleDownDelay: ${s.scaleDownDelay} }
      canary:
        steps: ${s.canarySteps}
      analysis: ${s.analysis}
      progressDeadline: 60s
`;
}

/** Starts `switchyard up` in `dir` and waits until the proxy answers 200 from the first release. */
export async function startSwitchyard(cli: string, dir: string): Promise<SwitchyardTarget> {
  const ports = { proxy: await freePort(), admin: await freePort() };
  mkdirSync(join(dir, 'state'), { recursive: true });
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(config, switchyardConfig(ports, dir));
  const env = { ...process.env, NODE_ENV: 'production', NO_COLOR: '1' };
  const proc = spawnPinned('switchyard', undefined, process.execPath, [cli, 'up', '-c', config], env);
  const url = `http://127.0.0.1:${ports.proxy}`;
  try {
    await waitForHttp200(proc, `${url}/`, 30_000);
  } catch (err) {
    await stopSwitchyard(proc);
    throw err;
  }
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  return { proc, url, admin: new AdminClient(adminUrl), adminUrl };
}

/** SIGTERM: the daemon drains and stops its instances; SIGKILL for all of them after the grace time. */
export function stopSwitchyard(proc: Spawned): Promise<void> {
  return stop(proc, 20_000);
}
