// Reads one cookie from a Cookie header without parsing the rest, and formats Set-Cookie values.

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq > start && eq < end && header.slice(start, eq).trim() === name) {
      return header.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return undefined;
}

export function setCookieValue(name: string, value: string, maxAgeMs?: number): string {
  const maxAge = maxAgeMs === undefined ? '' : `; Max-Age=${Math.round(maxAgeMs / 1000)}`;
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${maxAge}`;
}
