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

/**
 * One host's path prefixes, longest first, indexed by their first path segment: a lookup compares only
 * the prefixes that can match ("/api…" for a path "/api/x"), then the ones that match every path ("/").
 */
class PrefixList<T> {
  private readonly bySegment = new Map<string, PrefixEntry<T>[]>();
  private readonly general: PrefixEntry<T>[] = [];

  constructor(entries: readonly PrefixEntry<T>[]) {
    const sorted = [...entries].sort((a, b) => b.prefix.length - a.prefix.length);
    for (const entry of sorted) {
      const segment = entry.prefix.length > 1 && entry.prefix.charCodeAt(0) === 47 ? firstSegment(entry.prefix) : null;
      if (segment === null) this.general.push(entry);
      else {
        const list = this.bySegment.get(segment) ?? [];
        list.push(entry);
        this.bySegment.set(segment, list);
      }
    }
  }

  match(path: string): T | undefined {
    if (this.bySegment.size > 0) {
      const hit = matchPrefix(this.bySegment.get(firstSegment(path)) ?? [], path);
      if (hit !== undefined) return hit;
    }
    return matchPrefix(this.general, path);
  }
}

/** "/api/x?q" → "api", "/api?q" → "api", "/" → "". */
function firstSegment(path: string): string {
  let end = 1;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  return path.slice(1, end);
}

export class HostRouter<T> {
  private readonly exact = new Map<string, PrefixList<T>>();
  /** Wildcards by suffix (".example.com"), longest suffix first. */
  private readonly wildcards: { suffix: string; entries: PrefixList<T> }[] = [];
  private readonly anyHost: PrefixList<T>;

  constructor(routes: readonly { match: RouteMatch; target: T }[]) {
    const exact = new Map<string, PrefixEntry<T>[]>();
    const wildcards: { suffix: string; entries: PrefixEntry<T>[] }[] = [];
    const anyHost: PrefixEntry<T>[] = [];
    for (const { match, target } of routes) {
      const entry = { prefix: match.pathPrefix, target };
      if (match.hosts.length === 0) anyHost.push(entry);
      for (const host of match.hosts) {
        if (host.startsWith('*.')) {
          const suffix = host.slice(1);
          let group = wildcards.find((w) => w.suffix === suffix);
          if (!group) wildcards.push((group = { suffix, entries: [] }));
          group.entries.push(entry);
        } else {
          const list = exact.get(host) ?? [];
          list.push(entry);
          exact.set(host, list);
        }
      }
    }
    for (const [host, entries] of exact) this.exact.set(host, new PrefixList(entries));
    wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    for (const group of wildcards) this.wildcards.push({ suffix: group.suffix, entries: new PrefixList(group.entries) });
    this.anyHost = new PrefixList(anyHost);
  }

  /** `host` is the Host header as sent (any case, maybe with a port); `path` the request target. */
  match(host: string | undefined, path: string): T | undefined {
    const name = host === undefined ? '' : hostName(host);
    const exact = this.exact.get(name);
    if (exact) {
      const hit = exact.match(path);
      if (hit !== undefined) return hit;
    }
    for (const group of this.wildcards) {
      // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com".
      if (name.length > group.suffix.length && name.endsWith(group.suffix)) {
        const hit = group.entries.match(path);
        if (hit !== undefined) return hit;
      }
    }
    return this.anyHost.match(path);
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
