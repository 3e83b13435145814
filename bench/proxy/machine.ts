// What the numbers were measured on: CPU, kernel, node and the versions of the other tools,
// so two result files can be told apart before they are compared.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';

export interface Machine {
  cpuModel: string;
  cpuCount: number;
  kernel: string;
  node: string;
  switchyard: string;
  commit: string | undefined;
  nginx: string | undefined;
  haproxy: string | undefined;
  wrk: string | undefined;
  autocannon: string | undefined;
}

/** Describes this machine and the tools on it; versions are undefined for tools not installed. */
export function describeMachine(): Machine {
  return {
    cpuModel: cpuModel(),
    cpuCount: cpus().length,
    kernel: release(),
    node: process.version,
    switchyard: packageVersion('package.json') ?? 'unknown',
    commit: gitCommit(),
    nginx: firstMatch('nginx', ['-v'], /nginx\/(\S+)/),
    haproxy: firstMatch('haproxy', ['-v'], /version (\S+)/),
    wrk: firstMatch('wrk', ['-v'], /wrk (\S+)/),
    autocannon: packageVersion('node_modules/autocannon/package.json'),
  };
}

/** One line for the report header. */
export function formatMachine(m: Machine): string {
  const tools = [`node ${m.node}`, `switchyard ${m.switchyard}${m.commit ? ` (${m.commit.slice(0, 10)})` : ''}`];
  for (const [name, version] of [['nginx', m.nginx], ['haproxy', m.haproxy], ['wrk', m.wrk]] as const) {
    tools.push(`${name} ${version ?? 'not installed'}`);
  }
  if (m.wrk === undefined && m.autocannon) tools.push(`autocannon ${m.autocannon}`);
  return `${m.cpuModel} (${m.cpuCount} CPUs), Linux ${m.kernel}\n${tools.join(', ')}`;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux, or /proc hidden: fall back to what node reports.
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

function firstMatch(command: string, args: string[], pattern: RegExp): string | undefined {
  const out = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
  if (out.error) return undefined;
  // nginx prints its version on stderr, wrk exits non-zero after printing it: read both streams.
  return pattern.exec(`${out.stdout ?? ''}\n${out.stderr ?? ''}`)?.[1];
}

function packageVersion(path: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** HEAD's commit, read from .git's files (no git process), or undefined when that is not simple. */
function gitCommit(): string | undefined {
  try {
    const head = readFileSync('.git/HEAD', 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
    const ref = head.slice(5);
    const loose = join('.git', ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync('.git/packed-refs', 'utf8');
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.slice(0, 40);
  } catch {
    return undefined;
  }
}
