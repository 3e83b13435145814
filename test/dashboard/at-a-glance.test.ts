// Specification of the dashboard "at a glance" (issue 13, points 8-11), end to end with Debian's chromium
// at 1280×800: during a canary the service header shows the step (n of m), the new release's weight, the
// time left and the last verdict with its numbers, above the fold; a release keeps its colour when it is
// promoted; a canary rolled back by its analysis stays flagged at the top until acknowledged; the charts
// show only releases with recent traffic, older ones one click away; the deploy dialog passes env like
// `deploy --env`. Screenshots of each state go to test-output/dashboard/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { Load } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';
import { CHROMIUM, launchChromium, type Browser } from './browser.js';
import { startFixture, type Fixture } from './daemon-fixture.js';

const OUTPUT = fileURLToPath(new URL('../../test-output/dashboard/', import.meta.url));
const LAPTOP = { width: 1280, height: 800 };
const skip = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

/**
 * True when the element is entirely inside the first screen (no scrolling needed). The status strip is
 * rebuilt every second (its time left ticks), so the element is found and measured in one task of the
 * page: a locator's `boundingBox()` can resolve an element and then measure it after it was replaced.
 */
async function aboveTheFold(page: Page, selector: string): Promise<boolean> {
  await page.locator(selector).first().waitFor();
  // A string expression: the test's TypeScript has no DOM types, the page has.
  const box = await page.evaluate<[number, number] | null>(
    `(() => { const r = document.querySelector(${JSON.stringify(selector)})?.getBoundingClientRect(); return r ? [r.top, r.bottom] : null; })()`,
  );
  assert.ok(box !== null, `${selector} is on the page`);
  const [top, bottom] = box;
  return top >= 0 && bottom <= LAPTOP.height;
}

async function deployFromDialog(page: Page, version: string, strategy: string, env = ''): Promise<void> {
  await page.getByRole('button', { name: 'Deploy…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New deployment' });
  await dialog.getByLabel('Version').fill(version);
  await dialog.getByLabel('Strategy').selectOption(strategy);
  if (env !== '') await dialog.getByLabel('Environment').fill(env);
  await dialog.getByRole('button', { name: 'Deploy' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** The element's text as one line, as a person reads it. */
async function text(locator: Locator): Promise<string> {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

async function colourOf(page: Page, version: string): Promise<string | null> {
  return page.locator(`.split-large [data-version="${version}"]`).getAttribute('data-colour', { timeout: 5000 });
}

async function chartLegend(page: Page): Promise<string[]> {
  const items = await page.locator('figure.chart[data-measure="requests"] .chart-legend li').allInnerTexts();
  return items.map((text) => text.trim().split(/\s+/)[0] ?? '');
}

describe('the dashboard at a glance', { skip }, () => {
  let sy: Fixture;
  let browser: Browser;
  let load: Load;
  before(async () => {
    await mkdir(OUTPUT, { recursive: true });
    // A canary step of 30 s with analysis: a step with a time left and verdicts every 2 s.
    sy = await startFixture({ canarySteps: [{ weight: 20, pause: '30s' }] });
    load = Load.start({ url: sy.proxyUrl, workers: 2, pauseMs: 15, maxDurationMs: 240_000 });
    browser = await launchChromium();
  });
  after(async () => {
    if (load) await load.stop();
    await browser?.close();
    await sy?.close();
  });

  it('tells the story of each deployment in the service header, keeps release colours, and flags a rollback until acknowledged', { timeout: 240_000 }, async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(LAPTOP);
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(sy.adminUrl);
    await page.locator('.service-card[data-service="web"]').waitFor();
    await page.locator('.status-strip').waitFor();

    // A canary: step n of m, the weight, the time left and the latest verdict, without scrolling.
    await deployFromDialog(page, 'v2', 'canary');
    const strip = page.locator('.status-strip[data-status="running"]');
    await strip.locator('[data-fact="verdict"][data-outcome="pass"]').waitFor({ timeout: 60_000 });
    const line = await text(strip.locator('.status-line'));
    assert.match(line, /Step \d+ of \d+: watch v2 at 20% of traffic for 30 s, comparing its errors and latency with v1/);
    assert.match(await text(strip.locator('[data-fact="weight"]')), /^weight v2 gets 20% of traffic$/i);
    assert.match(await text(strip.locator('[data-fact="time-left"]')), /^time left \d:\d\d of 0:30$/i);
    assert.match(await text(strip.locator('[data-fact="verdict"]')), /^last verdict pass canary [\d.]+% errors \(\d+\/\d+\), p99 [\d.]+ m?s · baseline [\d.]+% errors \(\d+\/\d+\), p99 [\d.]+ m?s maxErrorRate: canary error rate/i);
    for (const fact of ['weight', 'time-left', 'verdict']) {
      assert.ok(await aboveTheFold(page, `.status-strip[data-status="running"] [data-fact="${fact}"]`), `${fact} above the fold at 1280×800`);
    }
    const canaryColour = await colourOf(page, 'v2');
    const stableColour = await colourOf(page, 'v1');
    assert.notEqual(canaryColour, stableColour);
    await page.screenshot({ path: `${OUTPUT}11-canary-at-a-glance-1280x800.png` });

    // Promoted, v2 is stable and keeps its colour.
    assert.equal((await sy.api('POST', '/api/v1/services/web/promote', { full: true })).status, 200);
    await page.locator('.status-strip[data-status="ended"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
    await waitFor(async () => (await page.locator('.split-large [data-version="v1"]').count()) === 0, { timeout: 20_000, message: 'v1 out of the split' });
    assert.equal(await colourOf(page, 'v2'), canaryColour, 'v2 keeps its colour when it becomes stable');
    await page.screenshot({ path: `${OUTPUT}12-promoted-1280x800.png` });

    // v3 from the dialog with FAILURE_RATE=1 in its environment: the analysis fails it, the header says so.
    await deployFromDialog(page, 'v3', 'canary', 'FAILURE_RATE=1');
    const flaggedSelector = '.status-strip[data-status="flagged"][data-state="rolled-back"]';
    const flagged = page.locator(flaggedSelector);
    await flagged.waitFor({ timeout: 60_000 });
    assert.match(await text(flagged), /Deployment #\d+ \(canary v2 → v3\) rolled back/);
    assert.match(await text(flagged.locator('.status-reason')), /canary analysis failed: maxErrorRate: canary error rate 100/);
    assert.equal(await page.locator('.service-title [data-phase]').getAttribute('data-phase'), 'rolled-back', 'the title does not say steady');
    assert.equal(await page.locator('.service-card[data-service="web"] [data-phase]').getAttribute('data-phase'), 'rolled-back');
    assert.ok(await aboveTheFold(page, flaggedSelector), 'the failure is at the top');
    await page.screenshot({ path: `${OUTPUT}13-rolled-back-flagged-1280x800.png` });

    // Still flagged after a reload (the acknowledgement is the daemon's, not the tab's), until acknowledged.
    await page.reload();
    await flagged.waitFor();
    await flagged.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('.status-strip[data-status="ended"][data-state="rolled-back"]').waitFor();
    await waitFor(async () => (await page.locator('.service-title [data-phase]').getAttribute('data-phase')) === 'steady', { timeout: 10_000, message: 'steady once acknowledged' });
    await page.screenshot({ path: `${OUTPUT}14-acknowledged-1280x800.png` });

    // The charts keep releases with traffic in the last minute; v1 (out since the promotion) is one click away.
    await waitFor(async () => !(await chartLegend(page)).includes('v1'), { timeout: 90_000, interval: 1000, message: 'v1 to leave the chart legend' });
    assert.ok((await chartLegend(page)).includes('v2'));
    const older = page.getByRole('button', { name: /^Show \d+ older releases?$/ });
    await older.click();
    assert.ok((await chartLegend(page)).includes('v1'), 'v1 back in the legend after one click');
    assert.equal(await page.locator('figure.chart[data-measure="requests"] .chart-legend [data-colour]').first().getAttribute('data-colour'), stableColour, 'v1 keeps its colour');
    await page.screenshot({ path: `${OUTPUT}15-older-releases-shown-1280x800.png`, fullPage: true });
    assert.deepEqual(problems, [], 'no errors in the page');
  });
});
