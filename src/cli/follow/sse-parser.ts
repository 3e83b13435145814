// Server-Sent Events, parsed as the HTML spec says: `field: value` lines, a blank line ends a message,
// `:` starts a comment (the daemon's keep-alive). Chunks may split a line anywhere.

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  private rest = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  /** Feeds text as it arrives; returns the messages it completed. */
  push(text: string): SseMessage[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    const messages: SseMessage[] = [];
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (this.data.length > 0) messages.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id') this.id = value;
    }
    return messages;
  }
}
