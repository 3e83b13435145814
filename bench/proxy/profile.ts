// `--profile`: reads the .cpuprofile node wrote for switchyard and ranks functions by self time,
// so the hot path can be seen without opening DevTools.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HotFunction {
  /** `functionName url:line`, the key samples are aggregated by. */
  name: string;
  selfMs: number;
  /** Share of all sampled time that was not idle. */
  percent: number;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Pseudo-frames for time the isolate spent waiting; kept out of the percentages. */
const IDLE = new Set(['(idle)']);

/**
 * Self time per function, largest first. Sample i is credited with the gap to sample i + 1
 * (as DevTools does): timeDeltas[i] is the gap *before* sample i, which belongs to sample i - 1.
 * Functions are keyed by name, script and line, so the same function reached by many stacks adds up.
 * @example topSelfTime(JSON.parse(readFileSync(file, 'utf8')), 25)
 */
export function topSelfTime(profileJson: unknown, limit: number): HotFunction[] {
  const profile = asProfile(profileJson);
  const keyOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    keyOf.set(node.id, `${functionName === '' ? '(anonymous)' : functionName}${where}`);
  }
  const selfUs = new Map<string, number>();
  let busyUs = 0;
  for (let i = 0; i < profile.samples.length - 1; i++) {
    const key = keyOf.get(profile.samples[i] ?? -1) ?? '(unknown)';
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    if (!IDLE.has(key)) busyUs += delta;
  }
  return [...selfUs]
    .filter(([key]) => !IDLE.has(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, selfMs: us / 1000, percent: busyUs > 0 ? (100 * us) / busyUs : 0 }));
}

/** The .cpuprofile files in `dir` (one per switchyard process that exited cleanly). */
export function profilesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Parses and ranks one profile file. */
export function topSelfTimeOfFile(file: string, limit: number): HotFunction[] {
  return topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as unknown, limit);
}

/** Renders the ranking as aligned text lines. */
export function formatHotFunctions(hot: readonly HotFunction[]): string {
  const lines = hot.map(
    (h, i) => `${String(i + 1).padStart(3)}. ${h.selfMs.toFixed(1).padStart(9)} ms ${h.percent.toFixed(1).padStart(5)}%  ${h.name}`,
  );
  return ['  #     self ms  busy%  function', ...lines].join('\n');
}

function asProfile(value: unknown): CpuProfile {
  const v = value as Partial<CpuProfile> | null;
  if (v === null || typeof v !== 'object' || !Array.isArray(v.nodes) || !Array.isArray(v.samples) || !Array.isArray(v.timeDeltas)) {
    throw new Error('not a .cpuprofile: expected nodes, samples and timeDeltas arrays');
  }
  return v as CpuProfile;
}
