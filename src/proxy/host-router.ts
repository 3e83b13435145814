// Finds the service for a request: exact host, then the longest matching wildcard, then services that
// name no host; within each, the longest matching path prefix wins.

export interface RouteMatch {
  /** Exact names and `*.example.com` wildcards, lowercase; empty means any host. */
  hosts: readonly string[];
  pathPrefix: string;
}

interface PrefixEntry<T> {
  prefix: string;
  target: T;
}

export class HostRouter<T> {
  private readonly exact = new Map<string, PrefixEntry<T>[]>();
  /** Wildcards by suffix (".example.com"), longest suffix first. */
  private readonly wildcards: { suffix: string; entries: PrefixEntry<T>[] }[] = [];
  private readonly anyHost: PrefixEntry<T>[] = [];

  constructor(routes: readonly { match: RouteMatch; target: T }[]) {
    for (const { match, target } of routes) {
      const entry = { prefix: match.pathPrefix, target };
      if (match.hosts.length === 0) this.anyHost.push(entry);
      for (const host of match.hosts) {
        if (host.startsWith('*.')) {
          const suffix = host.slice(1);
          let group = this.wildcards.find((w) => w.suffix === suffix);
          if (!group) this.wildcards.push((group = { suffix, entries: [] }));
          group.entries.push(entry);
        } else {
          const list = this.exact.get(host) ?? [];
          list.push(entry);
          this.exact.set(host, list);
        }
      }
    }
    const byLength = (a: PrefixEntry<T>, b: PrefixEntry<T>) => b.prefix.length - a.prefix.length;
    for (const list of this.exact.values()) list.sort(byLength);
    for (const group of this.wildcards) group.entries.sort(byLength);
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    this.anyHost.sort(byLength);
  }

  /** `host` is the Host header as sent (any case, maybe with a port); `path` the request target. */
  match(host: string | undefined, path: string): T | undefined {
    const name = host === undefined ? '' : hostName(host);
    const exact = this.exact.get(name);
    if (exact) {
      const hit = matchPrefix(exact, path);
      if (hit !== undefined) return hit;
    }
    for (const group of this.wildcards) {
      // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
      if (name.length > group.suffix.length && name.endsWith(group.suffix)) {
        const hit = matchPrefix(group.entries, path);
        if (hit !== undefined) return hit;
      }
    }
    return matchPrefix(this.anyHost, path);
  }
}

function matchPrefix<T>(entries: readonly PrefixEntry<T>[], path: string): T | undefined {
  for (const entry of entries) {
    if (pathHasPrefix(path, entry.prefix)) return entry.target;
  }
  return undefined;
}

/** "/api" matches "/api", "/api/x" and "/api?q" but not "/apix". */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (prefix.endsWith('/') || path.length === prefix.length) return true;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

/** Removes a matched prefix, keeping the path absolute: "/api/x" → "/x", "/api?q" → "/?q". */
export function stripPathPrefix(path: string, prefix: string): string {
  if (prefix === '/' || prefix === '') return path;
  const bare = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const rest = path.slice(bare.length);
  return rest.length === 0 || rest.charCodeAt(0) !== 47 ? `/${rest}` : rest;
}

function hostName(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    end = host.indexOf(']') + 1 || end;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) end = colon;
  }
  const name = end === host.length ? host : host.slice(0, end);
  return name.toLowerCase();
}
