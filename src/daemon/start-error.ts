// Why the daemon could not start (state folder, a port in use, the token file): a message the user can
// act on, printed as one line without a stack.

export class StartError extends Error {
  readonly code: string = 'SY_ERR_START';
}
