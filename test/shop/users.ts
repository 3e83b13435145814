// Simulated shop users for the demo and its test: each signs up, then loops (look at the profile and
// the products, fill the cart, change name and phone now and then, order) until told to stop, through
// switchyard, keeping its cookies like a browser. Everything a user was told is kept, so the end can
// check that no session, order, name or phone was lost; every unexpected answer is a failed request.
import { Agent, request } from 'undici';

export interface CrowdOptions {
  proxyUrl: string;
  users: number;
  /** Between a user's iterations: keeps the load modest on a small machine. */
  pauseMs?: number;
  /** Every iteration stops by itself after this long (a bound on the loop, however it goes). */
  maxRunMs?: number;
}

interface Answer {
  status: number;
  body: unknown;
  version: string;
  cohort: string;
}

interface Profile {
  user: { id: number; email: string; name: string; phone?: string | null };
  routed?: { release: string | null; cohort: string };
  features?: { recommendations?: boolean };
}

export interface CrowdReport {
  requests: number;
  failed: number;
  failures: string[];
  /** Times a logged-in user was answered 401 (its session was gone). */
  loggedOut: number;
  /** Order ids the shop confirmed (201). */
  orders: number[];
  /** Requests answered, by the release that answered (x-app-version). */
  byVersion: Record<string, number>;
  /** Profile views that showed the canary-only feature, by cohort. */
  featureShown: Record<string, number>;
}

export class SimulatedUser {
  readonly email: string;
  readonly cookies = new Map<string, string>();
  loggedIn = false;
  /** What the user last set and saw stored: the end checks the shop still says so. */
  expectedName: string;
  expectedPhone: string | null = null;
  /** Phones the shop confirmed storing, by the version that stored them. */
  readonly phonesStoredBy = new Map<string, number>();
  readonly orders: number[] = [];
  private iteration = 0;

  constructor(
    readonly index: number,
    private readonly crowd: Crowd,
    run: string,
  ) {
    this.email = `user${index}.${run}@example.test`;
    this.expectedName = `User ${index}`;
  }

  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await request(`${this.crowd.options.proxyUrl}${path}`, {
      method: method as 'GET',
      dispatcher: this.crowd.agent,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    this.keepCookies(res.headers['set-cookie']);
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: a proxy error page, kept as text for the report.
    }
    const version = String(res.headers['x-app-version'] ?? 'none');
    this.crowd.count(version);
    return { status: res.statusCode, body: parsed, version, cohort: String(res.headers['x-app-cohort'] ?? '') };
  }

  /** One request that must answer `expected`; a 401 while logged in counts as logged out. */
  async expect(method: string, path: string, expected: number, body?: unknown): Promise<Answer | null> {
    let answer: Answer;
    try {
      answer = await this.call(method, path, body);
    } catch (err) {
      this.crowd.fail(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    if (answer.status === expected) return answer;
    if (answer.status === 401 && this.loggedIn) {
      this.crowd.report.loggedOut++;
      this.loggedIn = false;
      return null;
    }
    this.crowd.fail(`${method} ${path}: ${answer.status} from ${answer.version}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    return null;
  }

  async logIn(): Promise<void> {
    const first = this.iteration === 0;
    const answer = await this.expect('POST', first ? '/signup' : '/login', 200, { email: this.email, name: this.expectedName });
    if (answer !== null) this.loggedIn = true;
  }

  /** One round of shopping; a round ends early when the user finds itself logged out. */
  async step(): Promise<void> {
    if (!this.loggedIn) await this.logIn();
    const i = ++this.iteration;
    if (!this.loggedIn) return;
    const me = await this.expect('GET', '/me', 200);
    if (me !== null) this.crowd.sawProfile(me);
    await this.expect('GET', '/products', 200);
    if (!this.loggedIn || (await this.expect('POST', '/cart', 200, { productId: 1 + ((this.index + i) % 5), quantity: 1 + (i % 3) })) === null) return;
    if (i % 3 === 0 && !(await this.changeProfile(i))) return;
    if (i % 4 === 0) {
      const placed = await this.expect('POST', '/orders', 201);
      const order = (placed?.body as { order?: { id?: number } } | undefined)?.order;
      if (placed !== null && typeof order?.id === 'number') {
        this.orders.push(order.id);
        this.crowd.report.orders.push(order.id);
      }
    }
  }

  /** False when the change was not made. */
  private async changeProfile(i: number): Promise<boolean> {
    const name = `User ${this.index} (${i})`;
    const phone = `+49 30 ${String(this.index).padStart(3, '0')} ${String(i).padStart(4, '0')}`;
    const answer = await this.expect('PUT', '/me', 200, { name, phone });
    if (answer === null) return false;
    const stored = (answer.body as Profile).user;
    this.expectedName = name;
    // v1 does not know phones: it ignores them (and keeps what is stored).
    if (stored.phone === phone) {
      this.expectedPhone = phone;
      this.phonesStoredBy.set(answer.version, (this.phonesStoredBy.get(answer.version) ?? 0) + 1);
    }
    return true;
  }

  private keepCookies(header: string | string[] | undefined): void {
    for (const line of header === undefined ? [] : Array.isArray(header) ? header : [header]) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => a.trim().toLowerCase() === 'max-age=0');
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
}

export class Crowd {
  readonly agent = new Agent({ connections: 32, keepAliveTimeout: 4_000 });
  readonly users: SimulatedUser[];
  readonly report: CrowdReport = { requests: 0, failed: 0, failures: [], loggedOut: 0, orders: [], byVersion: {}, featureShown: {} };
  private running: Promise<void>[] = [];
  private stopping = false;

  constructor(readonly options: CrowdOptions) {
    const run = Date.now().toString(36);
    this.users = Array.from({ length: options.users }, (_, i) => new SimulatedUser(i + 1, this, run));
  }

  start(): void {
    const deadline = Date.now() + (this.options.maxRunMs ?? 15 * 60_000);
    this.running = this.users.map(async (user) => {
      while (!this.stopping && Date.now() < deadline) {
        await user.step();
        await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs ?? 40));
      }
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.agent.close();
  }

  /** Phones stored by `version` across all users. */
  phonesStoredBy(version: string): number {
    return this.users.reduce((sum, u) => sum + (u.phonesStoredBy.get(version) ?? 0), 0);
  }

  count(version: string): void {
    this.report.requests++;
    this.report.byVersion[version] = (this.report.byVersion[version] ?? 0) + 1;
  }

  fail(what: string): void {
    this.report.failed++;
    if (this.report.failures.length < 20) this.report.failures.push(what);
  }

  sawProfile(answer: Answer): void {
    const profile = answer.body as Profile;
    if (profile.features?.recommendations === true) {
      const key = `${answer.version}/${answer.cohort}`;
      this.report.featureShown[key] = (this.report.featureShown[key] ?? 0) + 1;
    }
  }
}
