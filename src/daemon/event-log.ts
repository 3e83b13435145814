// The daemon's log line for each stored event, at a level that matches what happened: crashes, failed
// health checks and rollbacks are warnings or errors, not info, so they stand out in `up`'s output.
import type { Logger } from 'pino';
import type { EventRow } from '../store/index.js';

const ERRORS = /^(deployment\.(failed|rolled-back)|service\.degraded|instance\.(failed|restart-failed)|hook\.\w+\.failed)$/;
const WARNINGS = /^(deployment\.rolling-back|instance\.(crashed|unhealthy|ejected|port-moved)|analysis\.(fail|paused)|step\.undo)$/;

export function eventLevel(type: string): 'error' | 'warn' | 'info' {
  return ERRORS.test(type) ? 'error' : WARNINGS.test(type) ? 'warn' : 'info';
}

/** Logs an event with its service and deployment, and the output lines it carries (a crash's, a failed start's). */
export function logEvent(log: Logger, event: EventRow): void {
  const output = (event.data as { output?: unknown } | null)?.output;
  const fields = {
    service: event.service ?? undefined,
    deployment: event.deploymentId ?? undefined,
    type: event.type,
    output: Array.isArray(output) && output.length > 0 ? output : undefined,
  };
  log[eventLevel(event.type)](fields, event.message);
}
