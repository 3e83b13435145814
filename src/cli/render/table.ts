// Tables without borders, in the style of `kubectl get`: upper-case headings, columns two spaces apart,
// so they read well in a terminal and stay easy to grep and cut in scripts.
import Table from 'cli-table3';
import type { Palette } from './style.js';

const NO_BORDERS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: '  ',
};

/** Renders rows under headings; `indent` spaces go before every line. */
export function table(p: Palette, head: string[], rows: (string | number)[][], indent = 0): string {
  const t = new Table({
    head: head.map((h) => p.bold(h.toUpperCase())),
    chars: NO_BORDERS,
    // cli-table3 colours headings red by default; our palette decides colours instead.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  t.push(...rows.map((row) => row.map(String)));
  const margin = ' '.repeat(indent);
  return t
    .toString()
    .split('\n')
    .map((line) => margin + line.trimEnd())
    .join('\n');
}
