// Switchyard's own version, read once from package.json (which ships beside dist/), for `--version`
// and the admin API's identifying header.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const SWITCHYARD_VERSION = readVersion();

/** The header every admin API answer carries, so a client can tell a switchyard daemon from anything else. */
export const ADMIN_HEADER = 'x-switchyard';
