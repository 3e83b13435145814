// The connections to one endpoint: idle keep-alive connections are reused newest first (they are the
// least likely to be closed by the app), new ones are opened as needed; all are closed on retire.
import { UpstreamConnection, type ConnectionOptions, type Upstream, type UpstreamHandler, type UpstreamRequest } from './connection.js';

export class UpstreamPool implements Upstream {
  private readonly idle: UpstreamConnection[] = [];
  private readonly all = new Set<UpstreamConnection>();
  private closed = false;

  constructor(private readonly options: ConnectionOptions) {}

  /** Connections open now (idle or busy). */
  get size(): number {
    return this.all.size;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    let connection = this.idle.pop();
    while (connection !== undefined && !connection.isIdle) connection = this.idle.pop();
    if (connection === undefined) {
      connection = new UpstreamConnection(
        this.options,
        (c) => (this.closed ? c.destroy() : this.idle.push(c)),
        (c) => this.forget(c),
      );
      this.all.add(connection);
    }
    connection.dispatch(request, handler);
  }

  /** Closes every connection, busy ones included (their exchanges fail). */
  destroy(): void {
    this.closed = true;
    for (const connection of this.all) connection.destroy();
    this.idle.length = 0;
  }

  private forget(connection: UpstreamConnection): void {
    this.all.delete(connection);
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
  }
}
