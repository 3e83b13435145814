// The live view on a terminal: the steps as a task list (done, current with a spinner, to come), the
// traffic split, instance health and the latest events, redrawn in place.
import type { DeploymentDetail, EventView, ServiceView } from '../api-types.js';
import type { Reporter } from '../follow/reporter.js';
import { deploymentTitle, failureLines, pauseHint, stepLine } from './deployment.js';
import { healthLine, trafficLine } from './service-lines.js';
import { palette, stateColor, truncate, type Palette, type Terminal } from './style.js';
import { clock, duration } from './time.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const RECENT = 4;
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';

export class LiveView implements Reporter {
  readonly wantsService = true;
  private readonly p: Palette;
  private deployment: DeploymentDetail | undefined;
  private service: ServiceView | undefined;
  private readonly recent: EventView[] = [];
  private frame = 0;
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly restoreCursor = () => this.out.write(SHOW_CURSOR);

  constructor(
    private readonly term: Terminal,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.p = palette(term.color);
    this.out.write(HIDE_CURSOR);
    process.once('exit', this.restoreCursor);
    this.timer = setInterval(() => {
      this.frame++;
      this.draw(true);
    }, 100);
  }

  update(deployment: DeploymentDetail, service: ServiceView | undefined): void {
    this.deployment = deployment;
    this.service = service ?? this.service;
    this.draw(true);
  }

  event(event: EventView): void {
    this.recent.push(event);
    if (this.recent.length > RECENT) this.recent.shift();
    this.draw(true);
  }

  end(): void {
    clearInterval(this.timer);
    this.draw(false);
    this.restoreCursor();
    process.off('exit', this.restoreCursor);
  }

  private draw(spinning: boolean): void {
    const lines = this.lines(spinning)
      .slice(0, Math.max(3, this.term.rows - 1))
      .map((line) => truncate(line, Math.max(20, this.term.columns - 1)));
    // Back to the top of the last frame, clear to the end of the screen, draw anew.
    const up = this.drawn > 0 ? `\u001b[${this.drawn}A\r\u001b[0J` : '';
    this.out.write(`${up}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  private lines(spinning: boolean): string[] {
    const { p, deployment: d, service } = this;
    if (d === undefined) return [`${SPINNER[this.frame % SPINNER.length]} waiting for the deployment…`];
    const spinner = spinning ? p.cyan(SPINNER[this.frame % SPINNER.length]!) : undefined;
    const lines = [`${p.bold(deploymentTitle(d))}  ${stateColor(p, d.state)(d.state)}  ${p.dim(duration(d.durationMs))}`];
    for (const step of d.steps) lines.push(`  ${stepLine(p, step, d.steps.length, spinner)}`);
    if (service) {
      lines.push(`  ${p.dim('traffic  ')} ${trafficLine(p, service, true)}`);
      lines.push(`  ${p.dim('instances')} ${healthLine(service)}`);
    }
    const hint = pauseHint(d);
    if (hint) lines.push(p.yellow(`  ⏸ ${hint}`));
    lines.push(...failureLines(d).map((line) => p.red(line)));
    for (const e of this.recent) lines.push(p.dim(`  ${clock(e.time)} ${e.type} ${e.message}`));
    return lines;
  }
}
