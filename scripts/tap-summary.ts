// Reads node's TAP output for scripts/test.ts: the failing tests (with the names of the suites around
// them and their file) and the runner's closing totals.

export interface FailingTest {
  /** Suite names down to the test's own name. */
  name: string[];
  /** file:line:column, as the runner reported it. */
  location: string | null;
}

/**
 * Tests that failed by themselves (not suites that failed only because a subtest did).
 * @example failingTests('not ok 1 - x\n  ---\n  location: \'/a.test.ts:1:1\'\n  failureType: \'testCodeFailure\'\n  ...')
 */
export function failingTests(tap: string): FailingTest[] {
  const lines = tap.split('\n');
  const stack: string[] = [];
  const out: FailingTest[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const subtest = /^( *)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      stack.length = subtest[1]!.length / 4;
      stack.push(subtest[2]!);
      continue;
    }
    const notOk = /^( *)not ok \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (!notOk) continue;
    const depth = notOk[1]!.length / 4;
    let location: string | null = null;
    let type = '';
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]!); j++) {
      const field = /^\s*(location|failureType): '(.*)'$/.exec(lines[j]!);
      if (field?.[1] === 'location') location = field[2]!;
      if (field?.[1] === 'failureType') type = field[2]!;
    }
    if (type !== 'subtestsFailed') out.push({ name: [...stack.slice(0, depth), notOk[2]!], location });
  }
  return out;
}

/** The runner's own closing lines (# tests, # pass, # fail, ...), as it wrote them. */
export function totalsLines(tap: string): string[] {
  return tap.split('\n').filter((line) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(line));
}
