// Where each piece of desired state lives under the cluster's prefix, and which mirror table it fills.
// One key per row (steps: one key per deployment's plan), written whole, so a key is the unit of change.

/** The tables the mirror keeps, by the folder their keys live in. */
export const TABLE_OF_FOLDER = {
  services: 'services',
  releases: 'releases',
  instances: 'instances',
  deployments: 'deployments',
  steps: 'steps',
  routing: 'routing',
  'rollback-windows': 'rollback_window_ends',
  events: 'events',
} as const;

export type Folder = keyof typeof TABLE_OF_FOLDER;

/** The election key (its create revision fences every leader write) and the hosts' observed state. */
export const LEADER_KEY = 'leader';
export const HOSTS_FOLDER = 'hosts';

export interface ParsedKey {
  folder: Folder;
  /** The row's key within its table (a name, an id, or for events `node/seq`). */
  id: string;
}

/** `services/web` → { folder: 'services', id: 'web' }; keys of no table (the leader, hosts) → null. */
export function parseKey(relative: string): ParsedKey | null {
  const slash = relative.indexOf('/');
  if (slash <= 0) return null;
  const folder = relative.slice(0, slash);
  if (!(folder in TABLE_OF_FOLDER)) return null;
  return { folder: folder as Folder, id: relative.slice(slash + 1) };
}

export function keyOf(folder: Folder, id: string | number): string {
  return `${folder}/${String(id)}`;
}

/** Event keys sort by writer and sequence; an event's id is the etcd revision that created its key. */
export function eventKey(node: string, sequence: number): string {
  return keyOf('events', `${node}/${String(sequence).padStart(12, '0')}`);
}

/** A prefix always ends in one slash: `/switchyard` and `/switchyard/` are the same cluster. */
export function normalisePrefix(prefix: string): string {
  return `${prefix.replace(/\/+$/, '')}/`;
}
