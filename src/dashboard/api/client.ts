// The admin API from the browser: JSON over fetch with the bearer token as a header (never a cookie),
// errors as typed values so the page can tell "needs a token" from "daemon unreachable".

/** The API answered 401: a token is needed, or the one given is wrong. */
export class Unauthorized extends Error {
  constructor() {
    super('the admin API needs a token');
  }
}

/** No answer at all: the daemon is down or the network is. */
export class Unreachable extends Error {}

/** The API answered with `{error: {code, message}}`. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(private readonly token: () => string | null) {}

  /** Headers every call carries: the bearer token when there is one. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.token();
    return token === null ? extra : { ...extra, authorization: `Bearer ${token}` };
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new Unreachable(err instanceof Error ? err.message : String(err));
    }
    if (res.status === 401) throw new Unauthorized();
    const text = await res.text();
    const json: unknown = text === '' ? undefined : safeParse(text);
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiFailure(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `${method} ${path}: HTTP ${res.status}`);
    }
    return json as T;
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
