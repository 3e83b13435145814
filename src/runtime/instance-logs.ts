// The tails of a service's instance logs, newest instances last: what `switchyard logs` shows, read by the
// admin API from a running daemon, or by the CLI straight from the state folder when none runs.
import { instanceLogPath, readLogTail } from './log-files.js';

/** An instance as its log file is found: by service, release number and ordinal. */
export interface InstanceLogRef {
  id: string;
  service: string;
  state: string;
  releaseNumber: number;
  ordinal: number;
}

export interface InstanceLog {
  instance: string;
  state: string;
  text: string;
}

/** How many instances' logs one answer holds: the latest ones. */
export const LATEST_LOGS = 8;

/** The last `bytes` of each of the latest instances' logs (empty text for a file that cannot be read). */
export function readInstanceLogs(stateDir: string, refs: readonly InstanceLogRef[], bytes: number): Promise<InstanceLog[]> {
  return Promise.all(
    refs.slice(-LATEST_LOGS).map(async (ref) => {
      // The path is built from state rows only, never from a request, so it stays in the state folder.
      const text = await readLogTail(instanceLogPath(stateDir, ref.service, ref.releaseNumber, ref.ordinal), bytes).catch(() => '');
      return { instance: ref.id, state: ref.state, text };
    }),
  );
}
