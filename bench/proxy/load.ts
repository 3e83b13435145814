// Load generation: wrk when installed (C, cheap per request, microsecond latencies), else autocannon
// from node_modules. Both run pinned to the load CPU, bounded by their duration plus a watchdog.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isInstalled, spawnPinned, stop } from './processes.js';
import { PACED_SCRIPT, REPORT_SCRIPT, RESULT_MARKER } from './wrk-scripts.js';

export type LoadTool = 'wrk' | 'autocannon';

export interface LoadSpec {
  url: string;
  durationS: number;
  connections: number;
  threads: number;
  /** Total requests/s to pace at; undefined means as fast as the target answers. */
  rate: number | undefined;
  cpu: number | undefined;
  /** Where wrk's Lua scripts are written. */
  dir: string;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Responses with a status of 400 or more (wrk) / not 2xx (autocannon). */
  badStatus: number;
}

const AUTOCANNON = resolve('node_modules/autocannon/autocannon.js');

/** The load generator to use: `wanted` if this machine has it, else wrk, else autocannon. */
export function pickLoadTool(wanted: LoadTool | undefined): LoadTool | undefined {
  const has = (tool: LoadTool): boolean => (tool === 'wrk' ? isInstalled('wrk') : existsSync(AUTOCANNON));
  if (wanted !== undefined) return has(wanted) ? wanted : undefined;
  if (has('wrk')) return 'wrk';
  return has('autocannon') ? 'autocannon' : undefined;
}

/** Runs one load window against `spec.url` and returns what the load generator measured. */
export async function runLoad(tool: LoadTool, spec: LoadSpec): Promise<LoadResult> {
  const [command, args] = tool === 'wrk' ? wrkCommand(spec) : autocannonCommand(spec);
  const proc = spawnPinned(tool, spec.cpu, command, args);
  // Watchdog: a load generator that hangs must not hang the bench.
  const watchdog = setTimeout(() => void stop(proc, 1000, 'SIGINT'), (spec.durationS + 30) * 1000);
  const status = await proc.exited;
  clearTimeout(watchdog);
  const output = proc.output();
  if (status !== 'exit 0') throw new Error(`${tool} failed (${status}) against ${spec.url}:\n${output}`);
  return tool === 'wrk' ? parseWrk(output) : parseAutocannon(output);
}

function wrkCommand(spec: LoadSpec): [string, string[]] {
  const script = join(spec.dir, spec.rate === undefined ? 'report.lua' : 'paced.lua');
  writeFileSync(script, spec.rate === undefined ? REPORT_SCRIPT : PACED_SCRIPT);
  const threads = Math.min(spec.threads, spec.connections);
  const args = ['-t', String(threads), '-c', String(spec.connections), '-d', `${spec.durationS}s`, '-s', script, spec.url];
  // The paced script takes its per-thread rate after `--`.
  if (spec.rate !== undefined) args.push('--', String(spec.rate / threads));
  return ['wrk', args];
}

function autocannonCommand(spec: LoadSpec): [string, string[]] {
  const args = [AUTOCANNON, '--json', '-c', String(spec.connections), '-d', String(spec.durationS)];
  // Its coordinated-omission correction uses a 1 ms expected interval whatever the rate, which
  // inflates every percentile; at half capacity the target keeps up, so the raw latencies are honest.
  if (spec.rate !== undefined) args.push('-R', String(Math.round(spec.rate)), '--ignoreCoordinatedOmission');
  args.push(spec.url);
  return [process.execPath, args];
}

/**
 * Reads the JSON line the Lua `done()` hook printed.
 * @example parseWrk('... \nSWITCHYARD_BENCH_RESULT {"requests":10,...}\n')
 */
export function parseWrk(output: string): LoadResult {
  const line = output.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (line === undefined) throw new Error(`wrk printed no result line:\n${output}`);
  const raw: unknown = JSON.parse(line.slice(RESULT_MARKER.length));
  const keys = ['requests', 'durationUs', 'p50Us', 'p99Us', 'connect', 'read', 'write', 'status', 'timeout'] as const;
  const json = pickNumbers(raw, keys);
  const durationS = json.durationUs / 1e6;
  return {
    requests: json.requests,
    durationS,
    rps: json.requests / durationS,
    p50Ms: json.p50Us / 1000,
    p99Ms: json.p99Us / 1000,
    errors: json.connect + json.read + json.write + json.timeout,
    badStatus: json.status,
  };
}

/** Reads autocannon's `--json` result (the last JSON line it printed). */
export function parseAutocannon(output: string): LoadResult {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`autocannon printed no JSON:\n${output}`);
  const raw: unknown = JSON.parse(line);
  const top = pickNumbers(raw, ['duration', 'errors', 'timeouts', 'non2xx']);
  const requests = pickNumbers(field(raw, 'requests'), ['total']);
  const latency = pickNumbers(field(raw, 'latency'), ['p50', 'p99']);
  const durationS = top.duration;
  return {
    requests: requests.total,
    durationS,
    rps: requests.total / durationS,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    errors: top.errors + top.timeouts,
    badStatus: top.non2xx,
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function pickNumbers<K extends string>(value: unknown, keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const n = field(value, key);
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`load result: ${key} is not a number`);
    out[key] = n;
  }
  return out;
}
