// Host:port addresses and host-name patterns as config files write them. Shared with the proxy,
// the admin API and the CLI, so every part reads `listen` and `targets` the same way.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface HostPort {
  /** An IPv4 address, a host name, or an IPv6 address without its brackets. */
  host: string;
  port: number;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const PORT = /^\d{1,5}$/;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Whether a host only reaches this machine: 127.0.0.0/8, ::1 (any spelling, brackets allowed) or localhost.
 * @example isLoopbackHost('127.0.0.1') // true
 * @example isLoopbackHost('0.0.0.0') // false: that listens on every interface
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower === 'localhost.') return true;
  if (isIPv4(bare)) return loopback.check(bare, 'ipv4');
  if (isIPv6(bare)) return loopback.check(bare, 'ipv6');
  return false;
}

/** Whether `name` is a DNS host name (letters, digits, dashes; dot-separated labels). */
export function isHostName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

/**
 * Explains what is wrong with a `host:port` string, or returns undefined when it is fine.
 * Port 0 (any free port) is accepted unless `allowPortZero` is false, as for upstream targets.
 */
export function checkHostPort(text: string, { allowPortZero = true } = {}): string | undefined {
  const write = 'write host:port, e.g. 127.0.0.1:8080, [::1]:8080 or app.internal:3000';
  if (PORT.test(text)) {
    return `"${text}" needs a host; write 127.0.0.1:${text} (this machine only) or 0.0.0.0:${text} (all interfaces)`;
  }
  const split = splitHostPort(text);
  if (!split) return `"${text}" is not an address; ${write}`;
  const { host, port } = split;
  if (host === '') return `"${text}" needs a host; write 127.0.0.1${text} or 0.0.0.0${text}`;
  if (!PORT.test(port) || Number(port) > 65535) return `"${text}": the port must be a number from 0 to 65535`;
  if (Number(port) === 0 && !allowPortZero) return `"${text}": port 0 cannot be connected to`;
  if (text.startsWith('[')) return isIPv6(host) ? undefined : `"${text}": ${host} is not an IPv6 address`;
  if (isIPv6(host)) return `"${text}": put an IPv6 address in brackets, e.g. [${host}]:${port}`;
  if (/^[\d.]+$/.test(host) && !isIPv4(host)) return `"${text}": ${host} is not an IPv4 address`;
  if (!isHostName(host)) return `"${text}": ${host} is not a valid host name`;
  return undefined;
}

/**
 * Splits and validates `host:port`; throws a TypeError with the reason when it is not valid.
 * @example parseHostPort('[::1]:8080') // { host: '::1', port: 8080 }
 */
export function parseHostPort(text: string): HostPort {
  const problem = checkHostPort(text);
  const split = splitHostPort(text);
  if (problem !== undefined || !split) throw new TypeError(problem ?? `"${text}" is not an address`);
  return { host: split.host, port: Number(split.port) };
}

/**
 * Explains what is wrong with a `match.hosts` entry: an exact host name or a leading `*.` wildcard.
 */
export function checkHostPattern(pattern: string): string | undefined {
  if (pattern === '*') return '"*" is not needed: leave hosts out to match every host';
  if (/:\d+$/.test(pattern)) return `"${pattern}": hosts match without the port; write ${pattern.replace(/:\d+$/, '')}`;
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (name.includes('*')) return `"${pattern}": a wildcard must be the whole first label, e.g. *.example.com`;
  if (!isHostName(name)) return `"${pattern}" is not a host name; use e.g. app.example.com or *.example.com`;
  return undefined;
}

function splitHostPort(text: string): { host: string; port: string } | undefined {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    return close === -1 ? undefined : { host: text.slice(1, close), port: text.slice(close + 2) };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return undefined;
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}
