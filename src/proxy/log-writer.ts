// A buffered, asynchronous line writer for the access log: lines are collected in memory and written in
// chunks of about 16 KB (or once a second when traffic is light) by fs.write off the request path, so a
// request pays for building its line and an array push. pino's destination (sonic-boom) appends each
// line to one growing string and measures its byte length on every write, which costs more per line
// than the line itself once the buffer holds a few KB.
import { closeSync, fsyncSync, write, writeSync } from 'node:fs';

/** Buffered text that triggers a write. */
const FLUSH_AT = 16 * 1024;
/** Beyond this much waiting text (a destination that cannot keep up), new lines are dropped and counted. */
const MAX_PENDING = 8 * 1024 * 1024;
/** Light traffic: whatever is buffered is written at least this often. */
const FLUSH_INTERVAL_MS = 1000;
/** A non-blocking pipe that is full answers EAGAIN: try again after this long. */
const RETRY_MS = 10;

export class LineWriter {
  private pending: string[] = [];
  private pendingLength = 0;
  private writing = false;
  private closed = false;
  private dropped = 0;
  private idle: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout;

  /**
   * `fd`: an open descriptor (1 and 2 are left open on close). `onProblem` hears of dropped lines and
   * write errors, at most once per flush interval.
   */
  constructor(
    private readonly fd: number,
    private readonly onProblem: (message: string) => void = (message) => process.stderr.write(`switchyard access log: ${message}\n`),
  ) {
    this.timer = setInterval(() => this.tick(), FLUSH_INTERVAL_MS).unref();
  }

  /** Queues one line (with its newline). Never blocks; drops the line if the destination is far behind. */
  write(line: string): void {
    if (this.closed) return;
    if (this.pendingLength > MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingLength += line.length;
    if (!this.writing && this.pendingLength >= FLUSH_AT) this.flush();
  }

  /** Starts writing what is buffered (unless a write is already under way; it continues afterwards). */
  flush(): void {
    if (this.writing || this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.writing = true;
    this.writeOut(chunk);
  }

  /** Writes everything still buffered and closes the descriptor (a file's); resolves when done. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    this.flush();
    if (this.writing) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.closed = true;
    if (this.pending.length > 0) this.writeAllSync(Buffer.from(this.pending.join(''), 'utf8'));
    this.pending = [];
    if (this.fd > 2) {
      try {
        fsyncSync(this.fd);
      } catch {
        // Not a file (a pipe or a terminal): nothing to sync.
      }
      closeSync(this.fd);
    }
  }

  private writeOut(chunk: Buffer): void {
    write(this.fd, chunk, 0, chunk.length, null, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeOut(chunk), RETRY_MS);
          return;
        }
        this.onProblem(`cannot write: ${err.message}; ${chunk.length} bytes lost`);
        return this.done();
      }
      if (written < chunk.length) return this.writeOut(chunk.subarray(written));
      this.done();
    });
  }

  private done(): void {
    this.writing = false;
    if (this.pendingLength >= FLUSH_AT) return this.flush();
    if (this.idle.length > 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const wake of waiters) wake();
    }
  }

  private writeAllSync(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      try {
        offset += writeSync(this.fd, chunk, offset, chunk.length - offset);
      } catch (err) {
        // A full non-blocking pipe: spin until the reader takes some (this runs only at shutdown).
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return this.onProblem(`cannot write: ${(err as Error).message}`);
      }
    }
  }

  private tick(): void {
    this.flush();
    if (this.dropped > 0) {
      this.onProblem(`${this.dropped} lines dropped: the destination is not keeping up`);
      this.dropped = 0;
    }
  }
}
