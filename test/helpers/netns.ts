// Hosts as Linux network namespaces for tests (root only): a bridge in its own "switch" namespace and one
// namespace per host joined to it by a veth pair, on a /24 of 10.213.0.0/16 picked at random so parallel
// runs do not meet. Nothing touches the machine's own namespace; teardown deletes every namespace.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/** Why namespaces cannot be made here, or null when they can (root, `ip netns` working). */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  const probe = `sy-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.status !== 0) return `ip netns add failed: ${made.stderr.trim() || 'ip is missing'}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

export interface Lab {
  /** 10.213.N (no trailing dot). */
  subnet: string;
  /** Namespace name per host. */
  ns: Record<string, string>;
  /** Address per host. */
  address: Record<string, string>;
  /** The command line that runs `argv` inside a host's namespace. */
  exec(host: string, argv: string[]): string[];
  remove(): void;
}

/** Creates the switch and one namespace per name (in order: .1, .2, …), loopback up in each. */
export function createLab(hosts: string[]): Lab {
  const id = `sy${process.pid % 10_000}${randomInt(100)}`;
  const subnet = `10.213.${randomInt(1, 250)}`;
  const sw = `${id}-sw`;
  const ns: Record<string, string> = {};
  const address: Record<string, string> = {};
  const made: string[] = [];
  const remove = () => {
    for (const name of made.reverse()) spawnSync('ip', ['netns', 'del', name]);
  };
  try {
    ip('netns', 'add', sw);
    made.push(sw);
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    hosts.forEach((host, i) => {
      const name = `${id}-${host}`;
      ip('netns', 'add', name);
      made.push(name);
      ns[host] = name;
      address[host] = `${subnet}.${i + 1}`;
      const inner = `${id}${i}i`;
      const outer = `${id}${i}o`;
      ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer);
      ip('link', 'set', inner, 'netns', name);
      ip('link', 'set', outer, 'netns', sw);
      ip('-n', name, 'link', 'set', inner, 'name', 'eth0');
      ip('-n', name, 'addr', 'add', `${address[host]}/24`, 'dev', 'eth0');
      ip('-n', name, 'link', 'set', 'eth0', 'up');
      ip('-n', name, 'link', 'set', 'lo', 'up');
      ip('-n', sw, 'link', 'set', outer, 'master', 'br0');
      ip('-n', sw, 'link', 'set', outer, 'up');
    });
  } catch (err) {
    remove();
    throw err;
  }
  return { subnet, ns, address, exec: (host, argv) => ['ip', 'netns', 'exec', ns[host]!, ...argv], remove };
}
