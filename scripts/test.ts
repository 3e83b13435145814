// Runs every *.test.ts under src/, test/ and bench/ with node's test runner (Node 20 has no --test
// globbing). The terminal gets the dot reporter, then a summary naming each failing test and its
// file, and last the runner's own totals (read from its TAP output, written to a temp file).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { failingTests, totalsLines } from './tap-summary.js';

function findTests(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const all = [...findTests('src', []), ...findTests('test', []), ...findTests('bench', []), ...findTests('scripts', [])].sort();
const files = filters.length === 0 ? all : all.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '3';
const dir = mkdtempSync(join(tmpdir(), 'switchyard-tap-'));
const tapFile = join(dir, 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--enable-source-maps',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=dot',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
let tap = '';
try {
  tap = readFileSync(tapFile, 'utf8');
} catch {
  // The runner died before writing anything: its exit status says so below.
}
rmSync(dir, { recursive: true, force: true });
const failing = failingTests(tap);
if (failing.length > 0) {
  console.log(`\n${failing.length} failing test${failing.length === 1 ? '' : 's'}:`);
  for (const f of failing) console.log(`  ✖ ${f.name.join(' > ')}\n      ${f.location === null ? '(no location)' : relative(process.cwd(), f.location)}`);
}
console.log('');
for (const line of totalsLines(tap)) console.log(line);
process.exit(result.status ?? 1);
