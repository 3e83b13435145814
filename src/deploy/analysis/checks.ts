// The extra per-interval checks of an analysis: an HTTP URL that must answer 2xx, or a command that
// must exit 0, each with its own timeout.
import { request } from 'undici';
import type { AnalysisCheck } from '../../config/index.js';
import { runHook } from '../../runtime/hooks.js';
import type { CheckResult } from './judge.js';

export async function runCheck(check: AnalysisCheck, env: Record<string, string>, cwd: string): Promise<CheckResult> {
  if (check.kind === 'http') {
    try {
      const res = await request(check.url, { headersTimeout: check.timeout, bodyTimeout: check.timeout, signal: AbortSignal.timeout(check.timeout) });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return { name: `http ${check.url}`, outcome: ok ? 'pass' : 'fail', detail: `HTTP ${res.statusCode}` };
    } catch (err) {
      return { name: `http ${check.url}`, outcome: 'fail', detail: err instanceof Error ? err.message : String(err) };
    }
  }
  const result = await runHook({ name: 'analysis check', command: check.command, cwd, env, timeoutMs: check.timeout });
  const detail = result.timedOut ? `timed out after ${check.timeout} ms` : `exit ${result.exitCode ?? result.signal}`;
  return { name: `command ${check.command}`, outcome: result.ok ? 'pass' : 'fail', detail: `${detail}${result.output ? `: ${result.output.trim().slice(-200)}` : ''}` };
}
