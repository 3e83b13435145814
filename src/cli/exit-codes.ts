// The CLI's exit codes, as DESIGN.md promises them to scripts and CI.
export const EXIT_OK = 0;
/** The deployment failed or was rolled back (and, for any other command, an unexpected failure). */
export const EXIT_DEPLOY_FAILED = 1;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
/** Ctrl-C while following a deployment: the shell's convention for SIGINT; the deployment goes on. */
export const EXIT_INTERRUPTED = 130;
