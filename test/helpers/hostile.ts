// Hostile clients, broken upstreams and process facts for the hardening tests: raw sockets that send
// slowly, never read or sit idle; upstreams that hang, answer garbage or die mid-body; a probe loop that
// keeps asking "is the service still up?"; slowhttptest as a child process; /proc readings (memory,
// instance processes). Everything is bounded and ended by the caller (sockets destroyed, PIDs killed).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

// --- ports

const handedOut = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below the kernel's ephemeral range, so no `listen(0)` and no outgoing connection on the
 * host can take it while a test stops a daemon and starts it again on the same ports.
 */
export async function stablePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // Not Linux: the usual default.
  }
  const from = Math.max(1024, low - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (handedOut.has(port) || !(await canBind(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found below ${low}`);
}

// --- processes

/** Resident memory of a process in bytes (VmRSS), or null when it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A daemon's own processes: the keeper (the pid `up` runs as) and its children, the controller and the
 * proxy workers (app instances are the controller's children, so they are not in it).
 */
export function daemonPids(keeperPid: number): number[] {
  const pids = [keeperPid];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === keeperPid) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** The daemon's proxy worker processes (their titles say `switchyard proxy N`). */
export function proxyWorkerPids(keeperPid: number): number[] {
  return daemonPids(keeperPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('switchyard proxy');
    } catch {
      return false;
    }
  });
}

/**
 * Samples resident memory every `intervalMs` until stopped, summed over the processes `pids` names at
 * each sample (a daemon: `() => daemonPids(keeper)`); keeps the first and the peak.
 */
export class MemoryWatch {
  readonly first: number;
  peak: number;
  private readonly timer: NodeJS.Timeout;
  private readonly pids: () => number[];

  constructor(pids: number | (() => number[]), intervalMs = 100) {
    this.pids = typeof pids === 'number' ? () => [pids] : pids;
    this.first = this.rss() ?? 0;
    this.peak = this.first;
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private rss(): number | null {
    let total: number | null = null;
    for (const pid of this.pids()) {
      const rss = rssOf(pid);
      if (rss !== null) total = (total ?? 0) + rss;
    }
    return total;
  }

  /** Growth of the peak over the first sample, in MB. */
  get growthMb(): number {
    return (this.peak - this.first) / 1024 / 1024;
  }

  sample(): void {
    const rss = this.rss();
    if (rss !== null && rss > this.peak) this.peak = rss;
  }

  stop(): { firstMb: number; peakMb: number; growthMb: number } {
    clearInterval(this.timer);
    this.sample();
    return { firstMb: this.first / 1024 / 1024, peakMb: this.peak / 1024 / 1024, growthMb: this.growthMb };
  }
}

function environOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function isZombieOrGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return true;
  }
}

/**
 * Live processes started as switchyard instances (SWITCHYARD_INSTANCE_ID in their environment) whose
 * environment also holds `marker` (e.g. `SY_TEST_RUN_MARKER=/tmp/x`): pid → instance id.
 */
export function instanceProcesses(marker: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const environ = environOf(pid);
    if (!environ.includes(marker)) continue;
    const id = environ.find((e) => e.startsWith('SWITCHYARD_INSTANCE_ID='));
    if (id !== undefined && !isZombieOrGone(pid)) found.set(pid, id.slice('SWITCHYARD_INSTANCE_ID='.length));
  }
  return found;
}

/** SIGKILLs every live process whose environment holds `marker`, each by PID and by process group. */
export function killMarked(marker: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !environOf(pid).includes(marker)) continue;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Gone already, or not a group leader.
      }
    }
  }
}

// --- a probe: is the service still answering?

export interface ProbeResult {
  at: number;
  ms: number;
  status: number | null;
  error: string | null;
  /** How long the watched process (ProbeOptions.waitPid) sat runnable but off the CPU meanwhile. */
  cpuWaitMs: number;
}

/**
 * Time the process's main thread (its event loop) has spent runnable but waiting for a CPU, in ms, from
 * /proc/PID/schedstat; 0 where the kernel does not report it.
 */
export function runQueueWaitMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6 || 0;
  } catch {
    return 0;
  }
}

export interface ProbeOptions {
  /** Pause between two probes. */
  intervalMs?: number;
  /** A probe that takes longer than this counts as a failure. */
  timeoutMs?: number;
  /** Reuse one kept-alive connection (opened before the attack) instead of a fresh one per probe. */
  keepAlive?: boolean;
  /** Stop by itself after this long, whatever happens. */
  maxDurationMs?: number;
  /** Record how long this process (the daemon) waited for a CPU during each probe (0 = none). */
  waitPid?: number;
}

/**
 * GETs `url` in a loop, one request at a time, until stopped (or maxDurationMs), and records each answer.
 *
 * @example
 * const probe = Probe.start('http://127.0.0.1:8080/');
 * // ... attack ...
 * const results = await probe.stop();
 * assert.deepEqual(results.filter((r) => r.status !== 200), []);
 */
export class Probe {
  readonly results: ProbeResult[] = [];
  private stopped = false;
  private readonly agent: Agent;
  private readonly done: Promise<void>;
  private wake: (() => void) | null = null;

  private constructor(
    private readonly url: string,
    private readonly options: Required<ProbeOptions>,
  ) {
    this.agent = new Agent({ keepAlive: options.keepAlive, maxSockets: 1 });
    const started = Date.now();
    this.done = (async () => {
      while (!this.stopped && Date.now() - started < options.maxDurationMs) {
        this.results.push(await this.once());
        await this.pause(options.intervalMs);
      }
    })();
  }

  static start(url: string, options: ProbeOptions = {}): Probe {
    return new Probe(url, { intervalMs: 100, timeoutMs: 3000, keepAlive: false, maxDurationMs: 120_000, waitPid: 0, ...options });
  }

  /** The probes that did not get a 200. */
  get failures(): ProbeResult[] {
    return this.results.filter((r) => r.status !== 200);
  }

  /** Resolves once `count` probes in a row have got a 200 (or rejects after `timeoutMs`). */
  async healthyStreak(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const tail = this.results.slice(-count);
      if (tail.length === count && tail.every((r) => r.status === 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${count} good probes in a row within ${timeoutMs} ms; last: ${JSON.stringify(this.results.slice(-5))}`);
  }

  async stop(): Promise<ProbeResult[]> {
    this.stopped = true;
    this.wake?.();
    await this.done;
    this.agent.destroy();
    return this.results;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private once(): Promise<ProbeResult> {
    const at = Date.now();
    const { waitPid } = this.options;
    const waitedBefore = waitPid > 0 ? runQueueWaitMs(waitPid) : 0;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (status: number | null, error: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const cpuWaitMs = waitPid > 0 ? Math.round(runQueueWaitMs(waitPid) - waitedBefore) : 0;
        resolve({ at, ms: Date.now() - at, status, error, cpuWaitMs });
      };
      const req = httpRequest(this.url, { agent: this.agent }, (res) => {
        res.resume();
        res.once('end', () => settle(res.statusCode ?? null, res.statusCode === 200 ? null : `status ${res.statusCode}`));
        res.once('error', (err) => settle(null, err.message));
      });
      const timer = setTimeout(() => {
        req.destroy();
        settle(null, `no answer in ${this.options.timeoutMs} ms`);
      }, this.options.timeoutMs);
      req.once('error', (err: NodeJS.ErrnoException) => settle(null, err.code ?? err.message));
      req.end();
    });
  }
}

/** One line per failed probe, for an assertion message. */
export function describeProbes(results: readonly ProbeResult[], limit = 10): string {
  const bad = results.filter((r) => r.status !== 200);
  const lines = bad.slice(0, limit).map((r) => `${new Date(r.at).toISOString()} +${r.ms}ms ${r.status ?? ''} ${r.error ?? ''}`);
  return `${bad.length} of ${results.length} probes failed${lines.length > 0 ? `:\n${lines.join('\n')}` : ''}`;
}

// --- hostile clients over raw sockets

/** A raw connection that remembers what came back and when it was closed. */
export class HostileSocket {
  received = 0;
  text = '';
  closedAt: number | null = null;
  readonly openedAt = Date.now();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      if (this.text.length < 4096) this.text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => (this.closedAt = Date.now()));
  }

  static open(port: number, host = '127.0.0.1'): Promise<HostileSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.setNoDelay(true);
      const onError = (err: Error) => reject(err);
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new HostileSocket(socket));
      });
    });
  }

  get closed(): boolean {
    return this.closedAt !== null;
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens `count` connections at most `concurrency` at a time; a refused or reset one is counted, not thrown. */
export async function openMany(port: number, count: number, concurrency = 50): Promise<{ sockets: HostileSocket[]; refused: number }> {
  const sockets: HostileSocket[] = [];
  let refused = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        try {
          sockets.push(await HostileSocket.open(port));
        } catch {
          refused++;
        }
      }
    }),
  );
  return { sockets, refused };
}

/**
 * Slowloris: `connections` sockets each send a request head one header line every `intervalMs` and
 * never finish it. Lines stop when stopped or when the server closed the socket.
 */
export class Slowloris {
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly sockets: HostileSocket[],
    intervalMs: number,
  ) {
    let n = 0;
    this.timer = setInterval(() => {
      n++;
      for (const s of sockets) if (!s.closed) s.write(`x-slow-${n}: ${'a'.repeat(8)}\r\n`);
    }, intervalMs);
  }

  static async start(port: number, { connections, intervalMs = 1000 }: { connections: number; intervalMs?: number }): Promise<Slowloris> {
    const { sockets } = await openMany(port, connections);
    for (const s of sockets) s.write(`GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    return new Slowloris(sockets, intervalMs);
  }

  get open(): number {
    return this.sockets.filter((s) => !s.closed).length;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const s of this.sockets) s.destroy();
  }
}

/** Slow body: a complete head announcing `contentLength` bytes, then `bytesPerTick` bytes every `intervalMs`. */
export class SlowBody {
  sent = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    readonly client: HostileSocket,
    bytesPerTick: number,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => {
      if (client.closed) return clearInterval(this.timer);
      client.write('b'.repeat(bytesPerTick));
      this.sent += bytesPerTick;
    }, intervalMs);
  }

  static async start(
    port: number,
    { path = '/upload', contentLength, bytesPerTick = 10, intervalMs = 1000 }: { path?: string; contentLength: number; bytesPerTick?: number; intervalMs?: number },
  ): Promise<SlowBody> {
    const client = await HostileSocket.open(port);
    client.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${contentLength}\r\n\r\n`);
    return new SlowBody(client, bytesPerTick, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.client.destroy();
  }
}

/** Sends a GET and never reads the answer (the socket is paused at once): a slow-read client. */
export async function nonReadingClient(port: number, path: string): Promise<HostileSocket> {
  const client = await HostileSocket.open(port);
  client.socket.pause();
  client.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return client;
}

// --- an app in its own process, so the test's event loop never competes with its streaming

/** What the streaming app saw: requests by kind, and how each large download or upload ended. */
export interface AppStats {
  downloads: { started: number; finished: number; aborted: number; lastAbortAt: number };
  uploads: { complete: number; aborted: number };
}

// `/` answers ok; `/upload` reads its body; `/big?mb=N` streams N MB with backpressure; `/stats` tells.
const STREAMING_APP = `
import { createServer } from 'node:http';
const stats = { downloads: { started: 0, finished: 0, aborted: 0, lastAbortAt: 0 }, uploads: { complete: 0, aborted: 0 } };
const chunk = Buffer.alloc(64 * 1024, 0x62);
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.pathname === '/stats') return res.end(JSON.stringify(stats));
  if (url.pathname === '/big') {
    stats.downloads.started++;
    const total = Number(url.searchParams.get('mb') ?? 50) * 1024 * 1024;
    let sent = 0;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.once('close', () => {
      if (res.writableFinished) stats.downloads.finished++;
      else { stats.downloads.aborted++; stats.downloads.lastAbortAt = Date.now(); }
    });
    return pump();
  }
  req.once('aborted', () => stats.uploads.aborted++);
  req.resume();
  req.once('end', () => {
    if (url.pathname === '/upload') stats.uploads.complete++;
    res.end('ok');
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
`;

export interface StreamingApp {
  address: string;
  pid: number;
  stats(): Promise<AppStats>;
  /** SIGKILL by PID, then wait for the exit. */
  kill(): Promise<void>;
}

/** Starts the streaming app on `port` as a child process; resolves once it listens. */
export async function startStreamingApp(port: number): Promise<StreamingApp> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', STREAMING_APP], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the streaming app');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the streaming app exited (${code}) before it listened`)));
  });
  const address = `127.0.0.1:${port}`;
  return {
    address,
    pid,
    stats: async () => JSON.parse((await plainRequest(`http://${address}/stats`)).body) as AppStats,
    kill,
  };
}

// --- broken upstreams

export interface RawUpstream {
  port: number;
  address: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now. */
  readonly open: number;
  close(): Promise<void>;
}

/** A TCP server that runs `onSocket` for every connection; close() destroys them all. */
export async function rawUpstream(onSocket: (socket: Socket) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    upstream.connections++;
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const upstream: RawUpstream = {
    port,
    address: `127.0.0.1:${port}`,
    connections: 0,
    get open() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return upstream;
}

/** Accepts connections, reads what comes, never answers. */
export function hangingUpstream(): Promise<RawUpstream> {
  return rawUpstream((socket) => socket.resume());
}

/** Answers the first bytes of every request with `HELLO\r\n\r\n` (not HTTP) and closes. */
export function garbageUpstream(): Promise<RawUpstream> {
  return rawUpstream((socket) => socket.once('data', () => socket.end('HELLO\r\n\r\n')));
}

/** Answers 200 with a Content-Length of `length`, sends half of the body, then closes the connection. */
export function midBodyCloserUpstream(length = 100_000): Promise<RawUpstream> {
  return rawUpstream((socket) =>
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${length}\r\n\r\n`);
      socket.write(Buffer.alloc(Math.floor(length / 2), 0x61), () => socket.destroy());
    }),
  );
}

// --- plain HTTP with full control (source address, no pooling)

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface PlainRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address of the connection (any 127.x.y.z works on Linux loopback). */
  localAddress?: string;
  timeoutMs?: number;
}

/** One request on a fresh connection; the whole body as text. */
export function plainRequest(url: string, { method = 'GET', headers = {}, body, localAddress, timeoutMs = 10_000 }: PlainRequest = {}): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)), timeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

// --- slowhttptest

/** True when the slowhttptest binary is on PATH. */
export function hasSlowhttptest(): boolean {
  return spawnSync('slowhttptest', ['-h'], { stdio: 'ignore' }).error === undefined;
}

export interface SlowhttptestRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** The "service available" verdicts slowhttptest printed as it went (its own probe connection). */
  availability: string[];
}

/** Runs slowhttptest to completion, SIGKILLed by PID after `timeoutMs`; pinned to `cpu` (taskset) when given. */
export function runSlowhttptest(args: string[], timeoutMs: number, cpu?: number): Promise<SlowhttptestRun> {
  return new Promise((resolve, reject) => {
    const [file, argv] = cpu === undefined ? ['slowhttptest', args] : ['taskset', ['-c', String(cpu), 'slowhttptest', ...args]];
    // slowhttptest writes a report file into its working directory: keep it out of the checkout.
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      const plain = output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      const availability = [...plain.matchAll(/service available:\s*(\S+)/gi)].map((m) => m[1]!);
      resolve({ code, signal, output: plain, availability });
    });
  });
}
