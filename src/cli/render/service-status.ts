// `switchyard status` as text: per service its stable release, each release's role and traffic, the
// instances, the preview header, the standby release and the deployment in progress (or how the last one
// ended: a failed or rolled-back one stays flagged until someone acknowledges it).
import type { ServiceView } from '../api-types.js';
import { currentStep, pauseHint } from './deployment.js';
import { healthCounts } from './service-lines.js';
import { stateColor, type Palette } from './style.js';
import { clock, dateTime } from './time.js';
import { table } from './table.js';

export function serviceStatus(p: Palette, s: ServiceView): string {
  const stable = s.stable ? `stable ${s.stable.version} (release ${s.stable.number})` : 'no stable release yet';
  const lines = [`${p.bold(s.name)}  ${stable}  ·  ${s.instancesWanted} instance${s.instancesWanted === 1 ? '' : 's'} wanted  ·  ${s.kind}`];
  if (s.releases.length > 0) {
    const releases = s.releases.map((r) => [r.number, r.version, r.role, `${r.traffic}%`, r.instances.length === 0 ? '-' : healthCounts(r)]);
    lines.push('', table(p, ['release', 'version', 'role', 'traffic', 'instances'], releases, 2));
  }
  const instances = s.releases.flatMap((r) =>
    r.instances.map((i) => {
      const health = i.ejected ? 'ejected' : i.healthy ? 'healthy' : 'unhealthy';
      return [i.id, `${r.version}#${r.number}`, stateColor(p, i.state)(i.state), stateColor(p, health)(health), i.inRotation ? 'yes' : 'no', i.inFlight, i.restarts, i.address, i.pid ?? '-'];
    }),
  );
  if (instances.length > 0) {
    lines.push('', table(p, ['instance', 'release', 'state', 'health', 'in rotation', 'in-flight', 'restarts', 'address', 'pid'], instances, 2));
  }
  lines.push('');
  if (s.preview) lines.push(`  preview     requests with \`${s.preview.header}: ${s.preview.value}\` reach the new release`);
  if (s.standby) lines.push(`  standby     ${s.standby.version} (release ${s.standby.number}) kept until ${clock(s.standby.until)}: \`switchyard rollback ${s.name}\` is instant`);
  const d = s.deployment;
  if (d === null) {
    lines.push(`  deployment  none in progress`);
    lines.push(...lastDeploymentLines(p, s));
  }
  else {
    const step = currentStep(d);
    const where = step ? `step ${step.index + 1}/${d.steps.length}: ${step.description}` : `${d.steps.filter((x) => x.state !== 'pending').length}/${d.steps.length} steps through`;
    const move = `${d.from?.version ?? '-'} → ${d.to?.version ?? '?'}`;
    lines.push(`  deployment  ${d.id} (${d.kind} ${move} by ${d.strategy}) ${stateColor(p, d.state)(d.state)}, ${where}`);
    const hint = pauseHint(d);
    if (hint) lines.push(`              ${p.yellow(hint)}`);
    // The canary's last verdict, with its numbers: what the analysis thinks right now.
    const verdict = d.verdicts.at(-1);
    if (verdict) lines.push(`  analysis    ${verdict.message} (${clock(verdict.time)})`);
  }
  return lines.join('\n');
}

/** How the last deployment ended; a bad ending nobody acknowledged says so, with what the app printed. */
function lastDeploymentLines(p: Palette, s: ServiceView): string[] {
  const last = s.lastDeployment;
  if (last === null) return [];
  const bad = last.state === 'failed' || last.state === 'rolled-back';
  const move = `${last.from?.version ?? '-'} → ${last.to?.version ?? '?'}`;
  const when = last.finishedAt === null ? '' : ` at ${dateTime(last.finishedAt)}`;
  const lines = [`  last        ${last.id} (${last.kind} ${move} by ${last.strategy}) ${stateColor(p, last.state)(last.state)}${when}${last.reason ? `: ${last.reason}` : ''}`];
  if (!bad) return lines;
  if (last.acknowledged) return [`${lines[0]!} ${p.dim('(acknowledged)')}`];
  lines.push(...last.failureOutput.map((line) => `              ${p.dim(`| ${line}`)}`));
  lines.push(`              ${p.yellow(`flagged until acknowledged: \`switchyard acknowledge ${s.name}\``)}`);
  return lines;
}
