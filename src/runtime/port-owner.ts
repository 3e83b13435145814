// Who holds a TCP port: the listening socket's inode from /proc/net/tcp{,6}, then the process whose
// /proc/PID/fd links to that socket. Linux only; elsewhere, or for another user's process, it finds
// what it can (the owner's uid) or nothing.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortOwner {
  pid: number | null;
  /** The program's command line (or name), when the process could be read. */
  command: string | null;
  /** The socket owner's user id, from /proc/net/tcp: known even when the process is not. */
  uid: number;
}

const LISTEN = '0A';

/**
 * The processes listening on `port` (any local address), as far as this user may see them.
 * @example describePortOwner(findPortOwners(8080)[0]) // 'pid 4242 (nginx: master process)'
 */
export function findPortOwners(port: number, proc = '/proc'): PortOwner[] {
  const sockets = new Map<string, number>();
  for (const table of ['net/tcp', 'net/tcp6']) {
    for (const { inode, uid } of listeningSockets(readOrEmpty(`${proc}/${table}`), port)) sockets.set(inode, uid);
  }
  if (sockets.size === 0) return [];
  const owners = new Map<string, PortOwner>();
  for (const pid of processIds(proc)) {
    for (const inode of socketInodes(`${proc}/${pid}/fd`)) {
      const uid = sockets.get(inode);
      if (uid === undefined || owners.has(inode)) continue;
      owners.set(inode, { pid, command: commandOf(proc, pid), uid });
    }
  }
  for (const [inode, uid] of sockets) if (!owners.has(inode)) owners.set(inode, { pid: null, command: null, uid });
  return [...owners.values()];
}

/** `pid 4242 (nginx: master process)`, or `a process of uid 0` when the process is not ours to read. */
export function describePortOwner(owner: PortOwner): string {
  if (owner.pid === null) return `a process of user id ${owner.uid} (not visible to this user)`;
  return owner.command === null ? `pid ${owner.pid}` : `pid ${owner.pid} (${owner.command})`;
}

/** Rows of /proc/net/tcp{,6} in LISTEN state on `port`: `sl local rem st queues tr retr uid timeout inode`. */
function listeningSockets(table: string, port: number): { inode: string; uid: number }[] {
  const found: { inode: string; uid: number }[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== LISTEN) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
    found.push({ inode: fields[9] ?? '', uid: Number(fields[7]) });
  }
  return found;
}

function processIds(proc: string): number[] {
  try {
    return readdirSync(proc).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
}

/** The inodes of the sockets a process has open; nothing for a process we may not look into. */
function socketInodes(fdDir: string): string[] {
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${fdDir}/${fd}`));
      if (match) inodes.push(match[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

function commandOf(proc: string, pid: number): string | null {
  const cmdline = readOrEmpty(`${proc}/${pid}/cmdline`).split('\0').filter(Boolean).join(' ');
  const text = cmdline || readOrEmpty(`${proc}/${pid}/comm`).trim();
  if (text === '') return null;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
