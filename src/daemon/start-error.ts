// Why the daemon could not start (state folder, a port in use, the token file, another daemon on the same
// state): a message the user can act on, printed as one line without a stack.

export class StartError extends Error {
  readonly code: string = 'SY_ERR_START';
  /** 2 when the setup is at fault (usage or config: a port taken, the state folder in use), else 1. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
  }
}
