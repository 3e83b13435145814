// How output looks on this terminal: a live view and colours only on a TTY, colours never under NO_COLOR
// (https://no-color.org), so pipes and CI logs get plain lines.

export interface Terminal {
  /** stdout is an interactive terminal: live views and spinners. */
  readonly live: boolean;
  readonly color: boolean;
  /** Visible columns, for cutting live-view lines so they never wrap. */
  readonly columns: number;
  /** Visible rows: a live view taller than the screen could not be redrawn in place. */
  readonly rows: number;
}

export function terminal(stream: NodeJS.WriteStream = process.stdout): Terminal {
  const live = stream.isTTY === true && process.env.TERM !== 'dumb';
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return { live, color: live && !noColor, columns: stream.columns ?? 80, rows: stream.rows ?? 24 };
}

export type Paint = (text: string) => string;

export interface Palette {
  bold: Paint;
  dim: Paint;
  green: Paint;
  red: Paint;
  yellow: Paint;
  cyan: Paint;
}

const sgr = (open: number, close: number): Paint => (text) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain: Paint = (text) => text;

export function palette(color: boolean): Palette {
  if (!color) return { bold: plain, dim: plain, green: plain, red: plain, yellow: plain, cyan: plain };
  return { bold: sgr(1, 22), dim: sgr(2, 22), green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

/** Paints a deployment or instance state: green when good, red when bad, yellow while in between. */
export function stateColor(p: Palette, state: string): Paint {
  if (['succeeded', 'ready', 'done', 'healthy'].includes(state)) return p.green;
  if (['failed', 'rolled-back', 'rolling-back', 'unhealthy', 'ejected'].includes(state)) return p.red;
  if (['paused', 'draining', 'starting', 'undone'].includes(state)) return p.yellow;
  return plain;
}

// Matches SGR colour sequences only: the only escapes this CLI writes inside a line.
const ESC = '\u001b';
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Cuts a line to `width` visible characters, keeping colour sequences intact. */
export function truncate(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let seen = 0;
  for (let i = 0; i < text.length; ) {
    ANSI.lastIndex = i;
    const escape = text[i] === ESC ? ANSI.exec(text) : null;
    if (escape !== null && escape.index === i) {
      out += escape[0];
      i += escape[0].length;
      continue;
    }
    if (seen < width - 1) out += text[i];
    else if (seen === width - 1) out += '…';
    seen++;
    i++;
  }
  return out;
}
