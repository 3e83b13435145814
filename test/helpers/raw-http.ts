// Raw TCP clients for tests that must send exact bytes (smuggling, HTTP/1.0, 100-continue, slow heads)
// and see exactly what comes back, including whether and when the server closed the connection.
import { connect, type Socket } from 'node:net';

export interface RawResult {
  /** Everything received, decoded as latin1 (one char per byte). */
  text: string;
  /** True when the server closed the connection before the wait ended. */
  closed: boolean;
}

/** One raw connection: write bytes, then wait for text or for the server to close. */
export class RawClient {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.size += chunk.length;
      this.wake();
    });
    // A server that closes while we still write makes EPIPE / ECONNRESET: that is an outcome, not a failure.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  /** Bytes received so far. */
  get received(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** True once the connection is closed (by either side). */
  get closed(): boolean {
    return this.ended;
  }

  /** Writes bytes unless the connection is already gone; resolves once they were handed to the OS. */
  write(data: string | Buffer): Promise<void> {
    if (this.ended || this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Waits until `done(text)` holds or the connection closes; rejects after `timeout` ms. */
  async until(done: (text: string) => boolean, timeout = 5000, what = 'expected data'): Promise<string> {
    await this.wait(() => done(this.text) || this.ended, timeout, what);
    return this.text;
  }

  /** Waits for the server to close, at most `timeout` ms; never rejects, says whether it closed. */
  async untilClosed(timeout = 5000): Promise<RawResult> {
    try {
      await this.wait(() => this.ended, timeout, 'close');
    } catch {
      // Reported through `closed: false`.
    }
    return { text: this.text, closed: this.ended };
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wait(ready: () => boolean, timeout: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}; received: ${JSON.stringify(this.text.slice(0, 500))}`));
      }, timeout);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Sends bytes on a fresh connection and collects the answer until the server closes or `timeout` ms pass. */
export async function sendRaw(port: number, data: string | Buffer, timeout = 5000): Promise<RawResult> {
  const client = await RawClient.connect(port);
  try {
    await client.write(data);
    return await client.untilClosed(timeout);
  } finally {
    client.destroy();
  }
}

export interface ParsedResponse {
  status: number;
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Everything after the head (not de-chunked). */
  body: string;
  /** The status line and header lines as received. */
  head: string;
}

/** Parses the first response in raw text; throws when there is no complete head. */
export function parseResponse(text: string): ParsedResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(text.slice(0, 300))}`);
  const head = text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (match === null) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(match[1]), headers, body: text.slice(end + 4), head };
}

/** How many status lines (responses, including 1xx) the text holds; a body could fake one, ours do not. */
export function countStatusLines(text: string): number {
  return text.match(/HTTP\/1\.[01] \d{3} /g)?.length ?? 0;
}
