// Upgrades hand the daemon from one generation of processes to the next (nginx USR2, HAProxy -x,
// tableflip): the running keeper starts the installed switchyard as generation N+1 and passes it the
// state lock and the listening sockets (the same sockets: no second bind, no accept queue lost). What is
// passed, and the few messages the two keepers exchange over the IPC channel between them.
import type { DrainReport } from '../../proxy/drain.js';
import type { DrainMessage, LostMessage, TableMessage } from '../ipc/messages.js';
import type { InheritedSocket } from './listeners.js';

/** The environment variable that tells a new keeper it takes over, and from what. */
export const TAKEOVER_ENV = 'SWITCHYARD_TAKEOVER';

export interface Takeover {
  generation: number;
  /** The state folder's lock, inherited. */
  lockFd: number;
  /** Every socket the old generation held, with its descriptor in the new keeper. */
  sockets: InheritedSocket[];
}

/** New generation → old: its processes run (`warm`); it routes and answers (`serving`); or it failed. */
export type ToPredecessor = { t: 'warm' } | { t: 'serving' } | { t: 'failed'; message: string };

/**
 * Everything the new generation's keeper sends the old one: its progress, then (from the takeover on,
 * while the old one runs) every table and drain of its controller (see generation-links.ts).
 */
export type FromSuccessor = ToPredecessor | TableMessage | DrainMessage | LostMessage;

/** Old generation → new: its controller is gone, so the new one may take over as the only writer. */
export interface TakeOverNow {
  t: 'takeover';
  /** The newest table the old workers had: the new generation numbers on from it. */
  tableVersion: number;
}

/** Old generation → new: a relayed drain ended in every old worker. */
export interface PredecessorDrained {
  t: 'drained';
  id: number;
  report: DrainReport;
}

/** Old generation → new: every old worker routes by this table (or a newer one) now. */
export interface PredecessorAcked {
  t: 'acked';
  version: number;
}

export type FromPredecessor = TakeOverNow | PredecessorDrained | PredecessorAcked;

export interface UpgradeStatus {
  /** The generation being (or that was) started. */
  generation: number;
  state: 'in-progress' | 'succeeded' | 'failed';
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export function readTakeover(env: NodeJS.ProcessEnv): Takeover | null {
  const text = env[TAKEOVER_ENV];
  if (text === undefined || text === '') return null;
  return JSON.parse(text) as Takeover;
}
