// Human log lines for a terminal, from pino's JSON lines: `06:07:18 WARN  web-v1-1: exited with code 127`
// plus the few fields that matter. It works on a stream of JSON lines (the daemon's own logger now, the
// child processes' logs piped through it later), so anything that is not a JSON log line passes unchanged.
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { palette, type Paint, type Palette } from './render/style.js';

export type LogFormat = 'human' | 'json';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// Shown elsewhere in the line (level, time, message) or not worth a person's attention.
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'type', 'output', 'err']);

interface LogRecord {
  level?: unknown;
  time?: unknown;
  msg?: unknown;
  output?: unknown;
  err?: unknown;
  [field: string]: unknown;
}

/**
 * One JSON log line as a human line (or several, when it carries an instance's output or an error stack).
 * @example formatLogLine('{"level":40,"time":1700000000000,"service":"web","msg":"web-v1-1: exited"}', palette(false))
 *   // '22:13:20 WARN  web-v1-1: exited  service=web'
 */
export function formatLogLine(line: string, p: Palette): string {
  const record = parseRecord(line);
  if (record === undefined) return line;
  const level = typeof record.level === 'number' ? record.level : 30;
  const name = (LEVELS[level] ?? String(level)).padEnd(5);
  const paint = levelPaint(p, level);
  const time = typeof record.time === 'number' ? clock(record.time) : '        ';
  const fields = Object.entries(record)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  const head = `${p.dim(time)} ${paint(name)} ${typeof record.msg === 'string' ? record.msg : ''}${fields.length > 0 ? `  ${p.dim(fields.join(' '))}` : ''}`;
  return [head, ...outputLines(record.output, p), ...errorLines(record.err, p)].join('\n');
}

/**
 * A writable for JSON log lines (pino's destination, or a child's piped stdout) that writes human lines
 * to `out`. Partial lines wait for their end.
 * @example pino({ base: null }, humanLogStream(process.stderr, { color: true }))
 */
export function humanLogStream(out: NodeJS.WritableStream, { color }: { color: boolean }): Writable {
  const p = palette(color);
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    const human = lines.filter((line) => line !== '').map((line) => formatLogLine(line, p));
    if (human.length > 0) out.write(`${human.join('\n')}\n`);
  };
  return new Writable({
    // Synchronous and in order: a log line written just before process.exit() must still appear.
    write(chunk: Buffer | string, _encoding, done) {
      emit(typeof chunk === 'string' ? chunk : decoder.write(chunk));
      done();
    },
    final(done) {
      emit(`${decoder.end()}\n`);
      done();
    },
  });
}

/** `human` on a terminal, `json` for pipes and files, unless the operator chose. */
export function chooseLogFormat(chosen: string | undefined, stream: { isTTY?: boolean }): LogFormat {
  if (chosen === 'human' || chosen === 'json') return chosen;
  return stream.isTTY === true ? 'human' : 'json';
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && 'msg' in value ? (value) : undefined;
  } catch {
    return undefined;
  }
}

function levelPaint(p: Palette, level: number): Paint {
  if (level >= 50) return (text) => p.bold(p.red(text));
  if (level >= 40) return p.yellow;
  if (level >= 30) return p.green;
  return p.dim;
}

function fieldText(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(',');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /\s/.test(text) && typeof value === 'string' ? JSON.stringify(text) : text;
}

/** An instance's or hook's last lines of output, indented under the line that mentions them. */
function outputLines(output: unknown, p: Palette): string[] {
  if (!Array.isArray(output)) return [];
  return output.filter((line): line is string => typeof line === 'string').map((line) => p.dim(`    | ${line}`));
}

function errorLines(err: unknown, p: Palette): string[] {
  if (typeof err !== 'object' || err === null) return [];
  const { stack, message } = err as { stack?: unknown; message?: unknown };
  const text = typeof stack === 'string' ? stack : typeof message === 'string' ? message : JSON.stringify(err);
  return text.split('\n').map((line) => p.red(`    ${line}`));
}

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
