// Warnings for `validate`: commands whose program cannot be found where they will run (`nodee server.js`
// would pass the schema and then exit 127 at start). Warnings, not errors: the program may be
// installed before the first deploy, and PATH may differ for the daemon.
import { readFileSync } from 'node:fs';
import { type Config, type ConfigProblem, lineFinder } from '../config/index.js';
import { commandProgram, findProgram } from '../runtime/find-program.js';

interface Command {
  path: (string | number)[];
  /** What exit 127 would mean: `an instance`, `the preDeploy hook`. */
  runner: string;
  command: string | readonly string[];
  cwd: string;
}

/** One problem per command whose program is missing, with its line in `file`. */
export function programWarnings(config: Config, file: string): ConfigProblem[] {
  const lineOf = lineFinder(readFileSync(file, 'utf8'));
  const warnings: ConfigProblem[] = [];
  for (const { path, runner, command, cwd } of commandsOf(config)) {
    const program = commandProgram(command);
    if (program === undefined || findProgram(program, cwd)) continue;
    const where = program.includes('/') ? `in ${cwd}` : 'on PATH';
    warnings.push({ path: path.join('.'), line: lineOf(path), message: `the program "${program}" was not found ${where}; ${runner} would exit with code 127` });
  }
  return warnings;
}

/** Every command the daemon will run for the config, with the folder it runs in (for the first version). */
function commandsOf(config: Config): Command[] {
  const found: Command[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    const cwd = service.run ? (service.run.cwd ?? process.cwd()).replaceAll('{version}', service.run.version) : process.cwd();
    if (service.run) found.push({ path: ['services', name, 'run', 'command'], runner: 'an instance', command: service.run.command, cwd });
    for (const hook of ['preDeploy', 'postDeploy', 'onRollback'] as const) {
      const spec = service.deploy.hooks[hook];
      if (spec !== undefined) found.push({ path: ['services', name, 'deploy', 'hooks', hook], runner: `the ${hook} hook`, command: spec.run, cwd });
    }
  }
  return found;
}
