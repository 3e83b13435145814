// Clients that behave like browsers towards one cookie: each keeps the sticky-release cookie the proxy
// gives it (and drops it when told to) and records every visit, so a test can ask "did this client ever
// see two versions?". A crowd of them visits in a loop until stopped.
import type { Dispatcher } from 'undici';
import { request } from 'undici';

export interface Visit {
  /** Date.now() when the request was sent and when it ended. */
  start: number;
  end: number;
  status: number | null;
  /** The `version` field of the JSON body (examples/node-app), else null. */
  version: string | null;
  /** The Set-Cookie headers of the response, joined by newlines ('' when none). */
  setCookie: string;
  /** Null for a good answer (200 with a version); else what went wrong. */
  error: string | null;
}

export class StickyClient {
  /** The `name=value` pair this client sends, or null before it got one (or after it was removed). */
  cookie: string | null = null;
  readonly visits: Visit[] = [];

  constructor(
    readonly url: string,
    readonly cookieName: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** The version of this client's first good answer. */
  get firstVersion(): string | null {
    return this.visits.find((v) => v.error === null)?.version ?? null;
  }

  /** One GET with the client's cookie; remembers what the proxy sets. */
  async visit(path = '/'): Promise<Visit> {
    const start = Date.now();
    let visit: Visit;
    try {
      const res = await request(`${this.url}${path}`, {
        dispatcher: this.dispatcher,
        headers: this.cookie === null ? {} : { cookie: this.cookie },
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      const text = await res.body.text();
      const header = res.headers['set-cookie'];
      const setCookie = Array.isArray(header) ? header.join('\n') : (header ?? '');
      this.remember(setCookie);
      const version = versionOf(text);
      const error = res.statusCode !== 200 ? `status ${res.statusCode}` : version === null ? 'bad body' : null;
      visit = { start, end: Date.now(), status: res.statusCode, version, setCookie, error };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      visit = { start, end: Date.now(), status: null, version: null, setCookie: '', error: typeof code === 'string' ? code : String(err) };
    }
    this.visits.push(visit);
    return visit;
  }

  private remember(setCookie: string): void {
    for (const line of setCookie.split('\n')) {
      const match = new RegExp(`^${this.cookieName}=([^;]*)`).exec(line);
      if (!match) continue;
      const removed = match[1] === '' || /;\s*Max-Age=0/i.test(line);
      this.cookie = removed ? null : `${this.cookieName}=${match[1]}`;
    }
  }
}

/** Clients visiting one after another in a loop (each waits `pauseMs` between its visits) until stopped. */
export class ClientCrowd {
  private stopped = false;
  private readonly done: Promise<void>;

  private constructor(
    readonly clients: readonly StickyClient[],
    pauseMs: number,
  ) {
    this.done = Promise.all(
      clients.map(async (client) => {
        while (!this.stopped) {
          await client.visit();
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      }),
    ).then(() => undefined);
  }

  static start(clients: readonly StickyClient[], pauseMs = 20): ClientCrowd {
    return new ClientCrowd(clients, pauseMs);
  }

  /** Ends the loops and waits for the visits in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function versionOf(text: string): string | null {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const { version } = body as { version?: unknown };
      return typeof version === 'string' ? version : null;
    }
  } catch {
    // Not JSON.
  }
  return null;
}
