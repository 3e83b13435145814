// The CLI's exit codes, as DESIGN.md promises them to scripts and CI.
export const EXIT_OK = 0;
export const EXIT_DEPLOY_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
