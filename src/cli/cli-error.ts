// Errors a command ends with: a message for the user and the exit code DESIGN.md promises for it.
import { EXIT_UNREACHABLE } from './exit-codes.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The daemon could not be reached at all; a follower may wait a little for it to come back. */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, EXIT_UNREACHABLE);
  }
}
