// Errors a deployment request can meet, each with a stable code, an HTTP status and the field at fault.
import { closest } from '../config/index.js';

export type DeployErrorCode = 'unknown_service' | 'invalid_field' | 'deployment_in_progress' | 'no_deployment' | 'not_possible' | 'unknown_release' | 'rollback_window_ended' | 'service_busy';

const STATUS: Record<DeployErrorCode, number> = {
  unknown_service: 404,
  unknown_release: 404,
  no_deployment: 409,
  invalid_field: 400,
  deployment_in_progress: 409,
  not_possible: 409,
  rollback_window_ended: 409,
  service_busy: 409,
};

export class DeployError extends Error {
  readonly status: number;

  constructor(
    readonly code: DeployErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

/** Why a running deployment stopped going forward; carried into its events and its `reason`. */
export class DeploymentFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'failed' | 'aborted' = 'failed',
    /** The failing instance's last lines of output, shown with the failure. */
    readonly output: string[] = [],
  ) {
    super(message);
  }
}

/** `no service named wbe; did you mean web?` (or the names there are, when none is close). */
export function unknownService(name: string, known: readonly string[]): string {
  const guess = closest(name, known);
  if (guess !== undefined) return `no service named ${name}; did you mean ${guess}?`;
  return known.length === 0 ? `no service named ${name}; none is configured` : `no service named ${name}; the services are ${known.join(', ')}`;
}
