// The live charts: requests/s, error rate, p50 and p99 over the last five minutes, one line per release
// in the release's own colour, in the same chart, so a regression shows at a glance. Only releases that
// had traffic in the last minute are drawn; older ones are one click away. uPlot draws on canvas; the
// charts are rebuilt only when the set of releases or the theme changes.
import uPlot from 'uplot';
import type { BufferedRelease, Measure, SeriesBuffer } from '../state/series-buffer.js';
import { h } from './dom.js';
import { formatMs, formatPercent, formatRate } from './format.js';
import { RELEASE_COLOURS, releaseClass, releaseColourVar } from './release-colour.js';

const HEIGHT = 150;
const SPAN_SECONDS = 300;
/** A release with no request in this many seconds is "older": hidden until asked for. */
export const RECENT_SECONDS = 60;

interface ChartSpec {
  measure: Measure;
  title: string;
  unit: string;
  format: (value: number) => string;
}

const SPECS: readonly ChartSpec[] = [
  { measure: 'requests', title: 'Requests', unit: 'per second', format: formatRate },
  { measure: 'errorRate', title: 'Error rate', unit: '% of requests', format: formatPercent },
  { measure: 'p50', title: 'Latency p50', unit: 'ms', format: formatMs },
  { measure: 'p99', title: 'Latency p99', unit: 'ms', format: formatMs },
];

/** The four charts of the selected service, kept across renders. */
export class Charts {
  readonly element: HTMLElement;
  private readonly panels: Panel[];
  private buffer: SeriesBuffer | null = null;
  private showOlder = false;
  private readonly olderToggle: HTMLButtonElement;

  constructor() {
    this.panels = SPECS.map((spec) => new Panel(spec));
    this.olderToggle = h('button', {
      type: 'button',
      class: 'btn btn-quiet older-toggle',
      'data-focus': 'older-releases',
      onclick: () => {
        this.showOlder = !this.showOlder;
        this.update(this.buffer);
      },
    });
    const grid = h('div', { class: 'charts' }, this.panels.map((p) => p.element));
    this.element = h('div', { class: 'charts-block' }, h('div', { class: 'charts-bar' }, this.olderToggle), grid);
    // Hovering one chart shows the same second in all four.
    new ResizeObserver(() => this.panels.forEach((p) => p.resize())).observe(grid);
  }

  update(buffer: SeriesBuffer | null): void {
    this.buffer = buffer;
    const all = buffer?.releases ?? [];
    const recent = all.filter((r) => hadTraffic(r, RECENT_SECONDS));
    const older = all.length - recent.length;
    this.olderToggle.hidden = older === 0;
    this.olderToggle.textContent = this.showOlder ? `Hide ${plural(older, 'older release')}` : `Show ${plural(older, 'older release')}`;
    this.olderToggle.setAttribute('aria-pressed', String(this.showOlder));
    for (const panel of this.panels) panel.update(buffer, this.showOlder ? all : recent);
  }

  /** After a theme switch: colours are read again from the stylesheet. */
  restyle(): void {
    for (const panel of this.panels) panel.destroy();
    this.update(this.buffer);
  }
}

class Panel {
  readonly element: HTMLElement;
  private readonly plotArea: HTMLElement;
  private readonly legend: HTMLElement;
  private plot: uPlot | null = null;
  private signature = '';
  private releases: BufferedRelease[] = [];
  private seconds: number[] = [];

  constructor(private readonly spec: ChartSpec) {
    this.plotArea = h('div', { class: 'plot' });
    this.legend = h('ul', { class: 'legend chart-legend', 'aria-live': 'off' });
    this.element = h(
      'figure',
      { class: 'chart', 'data-measure': spec.measure, 'data-points': '0' },
      h('figcaption', null, h('span', { class: 'chart-title' }, spec.title), h('span', { class: 'muted' }, ` ${spec.unit}`)),
      this.legend,
      this.plotArea,
    );
  }

  update(buffer: SeriesBuffer | null, releases: BufferedRelease[]): void {
    this.seconds = buffer?.seconds ?? [];
    this.releases = releases;
    const signature = this.releases.map((r) => `${r.name}:${r.role}:${r.number}`).join(',');
    if (this.plot === null || signature !== this.signature) this.build(signature);
    const data: uPlot.AlignedData = [this.seconds, ...this.releases.map((r) => r.columns[this.spec.measure])];
    this.plot!.setData(data);
    this.element.dataset.points = String(this.seconds.length);
    this.element.dataset.series = this.releases.map((r) => `${r.name}:${r.columns.requests.filter((n) => (n ?? 0) > 0).length}`).join(',');
    this.showValues(null);
  }

  resize(): void {
    if (this.plot === null) return;
    const width = this.plotArea.clientWidth;
    if (width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }

  private build(signature: string): void {
    this.destroy();
    this.signature = signature;
    const colours = themeColours(this.plotArea);
    const axis: uPlot.Axis = {
      stroke: colours.muted,
      grid: { stroke: colours.grid, width: 1 },
      ticks: { stroke: colours.grid, width: 1, size: 4 },
      font: '11px system-ui, sans-serif',
    };
    this.plot = new uPlot(
      {
        width: Math.max(this.plotArea.clientWidth, 200),
        height: HEIGHT,
        legend: { show: false },
        cursor: { sync: { key: 'switchyard' }, drag: { x: false, y: false }, points: { size: 6 } },
        scales: {
          x: { time: true, range: (_u, _min, max) => [max - SPAN_SECONDS + 1, max] },
          y: { range: (_u, _min, max) => [0, niceMax(max, this.spec.measure)] },
        },
        axes: [
          { ...axis, space: 70, values: (_u, ticks) => ticks.map((t) => clockTime(t)) },
          { ...axis, size: 44, values: (_u, ticks) => ticks.map((t) => String(Number(t.toPrecision(3)))) },
        ],
        series: [
          {},
          ...this.releases.map(
            (r): uPlot.Series => ({
              label: r.version,
              stroke: colours.release(r.number),
              width: 2,
              dash: r.role === 'other' ? [5, 4] : undefined,
              points: { show: false },
              spanGaps: false,
            }),
          ),
        ],
        hooks: { setCursor: [(u) => this.showValues(u.cursor.idx ?? null)] },
      },
      [this.seconds, ...this.releases.map((r) => r.columns[this.spec.measure])],
      this.plotArea,
    );
  }

  /** The legend shows the value under the cursor, or the latest one. */
  private showValues(idx: number | null): void {
    const at = idx ?? this.seconds.length - 1;
    const items = this.releases.map((r) => {
      const value = at >= 0 ? r.columns[this.spec.measure][at] : null;
      return h(
        'li',
        null,
        h('span', { class: `swatch seg-release ${releaseClass(r.number)}`, 'aria-hidden': 'true', 'data-colour': releaseClass(r.number) }),
        `${r.version} `,
        h('span', { class: 'num' }, value === null || value === undefined ? '–' : this.spec.format(value)),
      );
    });
    this.legend.replaceChildren(...(items.length > 0 ? items : [h('li', { class: 'muted' }, 'no requests yet')]));
  }
}

/** Axis labels in 24-hour local time, seconds when the ticks are that close. */
function clockTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${d.getSeconds() === 0 ? '' : `:${pad(d.getSeconds())}`}`;
}

/** Y axis top: at least a readable minimum, so an idle chart is not all noise. */
function niceMax(max: number, measure: Measure): number {
  const floor = measure === 'errorRate' ? 5 : measure === 'requests' ? 5 : 10;
  return Math.max(floor, max * 1.15);
}

/** CSS custom properties resolved to colours a canvas understands (they may use light-dark()). */
function themeColours(context: HTMLElement): { release: (number: number | null) => string; muted: string; grid: string } {
  const probe = h('span', { class: 'colour-probe' });
  context.appendChild(probe);
  const read = (name: string) => {
    probe.style.color = `var(${name})`;
    return getComputedStyle(probe).color;
  };
  const byVar = new Map(['--c-other', ...Array.from({ length: RELEASE_COLOURS }, (_, i) => `--c-r${i}`)].map((name) => [name, read(name)]));
  const colours = { release: (number: number | null) => byVar.get(releaseColourVar(number)) ?? byVar.get('--c-other')!, muted: read('--c-muted'), grid: read('--c-grid') };
  probe.remove();
  return colours;
}

/** Whether the release answered any request in the last `seconds` of the buffer. */
function hadTraffic(release: BufferedRelease, seconds: number): boolean {
  return release.columns.requests.slice(-seconds).some((n) => (n ?? 0) > 0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
