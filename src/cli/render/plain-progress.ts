// Following a deployment without a terminal (CI logs, pipes): one line per event, no colours, no
// spinners, and a line whenever the deployment starts waiting for someone.
import type { DeploymentDetail, EventView } from '../api-types.js';
import type { Reporter } from '../follow/reporter.js';
import { eventLine, failureLines, pauseHint } from './deployment.js';

export class PlainProgress implements Reporter {
  readonly wantsService = false;
  private hint: string | undefined;
  private toldOutput = false;

  constructor(private readonly print: (line: string) => void = (line) => console.log(line)) {}

  event(event: EventView): void {
    this.print(eventLine(event));
  }

  update(deployment: DeploymentDetail): void {
    const hint = pauseHint(deployment);
    if (hint !== undefined && hint !== this.hint) this.print(hint);
    this.hint = hint;
    const output = failureLines(deployment);
    if (output.length > 0 && !this.toldOutput) for (const line of output) this.print(line);
    this.toldOutput ||= output.length > 0;
  }

  end(): void {}
}
