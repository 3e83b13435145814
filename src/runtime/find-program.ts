// Can the program a command runs be found? `nodee server.js` passes every schema check and then fails
// with exit 127 at start; this finds that before. Shell syntax it cannot follow is not judged.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';

// Words a shell runs itself: a command starting with one is not judged by its first word.
const SHELL_WORDS = new Set(['cd', 'exec', 'export', 'set', 'source', '.', 'test', '[', 'true', 'false', 'eval', 'if', 'for', 'while', 'case', '{', '(', 'env', 'nohup', 'nice', 'time', 'command', 'ulimit', 'umask']);

/**
 * The program a command runs, or undefined when that depends on the shell (variables, builtins, quoting).
 * @example commandProgram('PORT=3 node server.js') // 'node'
 */
export function commandProgram(command: string | readonly string[]): string | undefined {
  if (typeof command !== 'string') return command[0];
  for (const word of command.trim().split(/\s+/)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    if (SHELL_WORDS.has(word) || /[$`"'\\*?(){};&|<>~]/.test(word) || word === '') return undefined;
    return word;
  }
  return undefined;
}

/**
 * Whether `program` resolves to an executable file, as `/bin/sh` would find it: a path with a slash
 * relative to `cwd`, else the first match on PATH (relative PATH entries, too, from `cwd`).
 * @example findProgram('node', '/srv/app') // true
 */
export function findProgram(program: string, cwd: string, path = process.env.PATH ?? ''): boolean {
  if (program.includes('/')) return isExecutable(isAbsolute(program) ? program : resolve(cwd, program));
  return path.split(delimiter).some((dir) => isExecutable(resolve(cwd, dir === '' ? '.' : dir, program)));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
