// Specification of the dashboard, end to end: a real daemon over examples/node-app under a small load,
// Debian's chromium on the page. A canary is started from the page, watched (split bar, charts, steps,
// verdicts, hooks) and aborted; with a token configured, nothing shows until the token is given.
// Screenshots of each state go to test-output/dashboard/ (SWITCHYARD_DOCS_SCREENSHOT=1 also refreshes
// docs/dashboard.png).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { Load } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';
import { CHROMIUM, launchChromium, type Browser } from './browser.js';
import { startFixture, type Fixture } from './daemon-fixture.js';

const OUTPUT = fileURLToPath(new URL('../../test-output/dashboard/', import.meta.url));
const DOCS_SHOT = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const TOKEN = 'dashboard-test-token-7f3a91c2';
const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const DOCS = process.env.SWITCHYARD_DOCS_SCREENSHOT === '1';
// Without chromium the tests are skipped on a developer's machine; CI (.ci/run) installs it, and fails without it.
const skip = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `${CHROMIUM} is missing (apt-get install chromium)`;

async function shoot(page: Page, name: string, size = WIDE, fullPage = true): Promise<void> {
  await page.setViewportSize(size);
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: `${OUTPUT}${name}.png`, fullPage });
}

/** Per release, the seconds with requests the requests chart holds, from its data attribute. */
async function chartSeconds(page: Page): Promise<Record<string, number>> {
  const text = (await page.locator('figure.chart[data-measure="requests"]').getAttribute('data-series')) ?? '';
  return Object.fromEntries(text.split(',').filter(Boolean).map((part) => [part.split(':')[0]!, Number(part.split(':')[1])]));
}

async function splitOf(page: Page, version: string): Promise<number | null> {
  const segment = page.locator(`.split-large [data-version="${version}"]`);
  return (await segment.count()) === 0 ? null : Number(await segment.getAttribute('data-traffic'));
}

describe('the dashboard', { skip }, () => {
  let sy: Fixture;
  let browser: Browser;
  let load: Load;
  let loadStopped: Promise<unknown> | null = null;
  const stopLoad = () => (loadStopped ??= load.stop());
  before(async () => {
    await mkdir(OUTPUT, { recursive: true });
    sy = await startFixture();
    load = Load.start({ url: sy.proxyUrl, workers: 2, pauseMs: 15, maxDurationMs: DOCS ? 600_000 : 180_000 });
    browser = await launchChromium();
  });
  after(async () => {
    if (load) await stopLoad();
    await browser?.close();
    await sy?.close();
  });

  it('starts a canary from the page, shows 20% on the split bar and the charts moving, and rolls back on abort', { timeout: DOCS ? 420_000 : 150_000 }, async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (err) => problems.push(err.message));
    await page.goto(sy.adminUrl);

    // The overview: the service, its stable release with all traffic, its instances, live charts.
    await page.locator('.service-card[data-service="web"]').waitFor();
    await waitFor(async () => (await splitOf(page, 'v1')) === 100, { timeout: 15_000, message: 'v1 at 100% on the split bar' });
    assert.equal(await page.locator('.instance').count(), 2);
    await waitFor(async () => ((await chartSeconds(page)).v1 ?? 0) >= 3, { timeout: 20_000, message: 'v1 requests on the chart' });
    await assert.doesNotReject(page.locator('.conn', { hasText: 'live' }).waitFor({ timeout: 10_000 }));
    await shoot(page, '1-steady-1280');

    // Deploy v2 as a canary with the form, from the keyboard.
    await page.getByRole('button', { name: 'Deploy…' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New deployment' });
    await dialog.getByLabel('Version').fill('v2');
    await dialog.getByLabel('Strategy').selectOption('canary');
    await dialog.getByRole('button', { name: 'Deploy' }).click();
    await dialog.waitFor({ state: 'detached' });

    // 20% on the split bar, the new release's line on the charts, a current step, a verdict, the hook.
    await waitFor(async () => (await splitOf(page, 'v2')) === 20, { timeout: 60_000, message: 'v2 at 20% on the split bar' });
    assert.equal(await splitOf(page, 'v1'), 80);
    const first = await waitFor(async () => (await chartSeconds(page)).v2, { timeout: 20_000, message: 'a v2 line on the charts' });
    await waitFor(async () => ((await chartSeconds(page)).v2 ?? 0) >= first + 2, { timeout: 20_000, message: 'the v2 line to grow' });
    await page.locator('.timeline [aria-current="step"]').waitFor();
    await page.locator('.verdict').first().waitFor({ timeout: 30_000 });
    await page.locator('.hook[data-hook="preDeploy"]').waitFor();
    await page.locator('.hook[data-hook="preDeploy"] summary').click();
    await page.locator('.hook .output', { hasText: 'expand the schema for v2' }).waitFor();
    const state = await page.locator('.deployment').getAttribute('data-state');
    assert.ok(state === 'progressing' || state === 'paused', `the canary waits at 20% (state ${state})`);
    assert.equal(await page.locator('[data-action="promote"]').count(), 1, 'promote is offered while the canary waits');
    assert.equal(await page.locator('[data-action="rollback"]').count(), 0, 'no rollback during a deployment');
    await shoot(page, '2-canary-1280');
    if (DOCS) {
      // A canary a few minutes in, so the charts have history beside it.
      await waitFor(async () => ((await chartSeconds(page)).v2 ?? 0) >= 150, { timeout: 240_000, interval: 1000, message: 'minutes of canary data' });
      await page.setViewportSize({ width: 1280, height: 1180 });
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: DOCS_SHOT });
    }
    await shoot(page, '3-canary-390', PHONE);
    await shoot(page, '3-canary-390-top', PHONE, false);
    await page.setViewportSize(WIDE);
    await page.getByRole('button', { name: /dark theme/ }).click();
    await shoot(page, '4-canary-dark-1280');
    await page.getByRole('button', { name: /light theme/ }).click();

    // Abort asks first; cancelling changes nothing, confirming rolls back.
    await page.locator('[data-action="abort"]').click();
    const confirm = page.getByRole('dialog', { name: /Abort deployment/ });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.locator('.deployment').getAttribute('data-state').then((s) => s === 'progressing' || s === 'paused'), true);
    await page.locator('[data-action="abort"]').click();
    await confirm.getByRole('button', { name: 'Abort' }).click();
    await page.locator('.deployment[data-state="rolled-back"]').waitFor({ timeout: 60_000 });
    await page.locator('.events li[data-type="deployment.rolled-back"]').waitFor({ timeout: 10_000 });
    await waitFor(async () => (await splitOf(page, 'v1')) === 100 && (await splitOf(page, 'v2')) === null, { timeout: 20_000, message: 'v1 back at 100%' });
    await page.locator('.history tr[data-deployment] td', { hasText: 'rolled-back' }).first().waitFor();
    await shoot(page, '5-rolled-back-1280');
    await shoot(page, '6-rolled-back-390', PHONE);
    assert.deepEqual(problems, [], 'no errors in the page');
    const view = await sy.api<{ deployment: unknown; releases: { version: string; traffic: number }[] }>('GET', '/api/v1/services/web');
    assert.equal(view.body.deployment, null);
    assert.deepEqual(view.body.releases.map((r) => [r.version, r.traffic]), [['v1', 100]]);
  });

  it('says so when the daemon stops answering', { timeout: 60_000 }, async () => {
    const page = await browser.context.newPage();
    await page.goto(sy.adminUrl);
    await page.locator('.service-card[data-service="web"]').waitFor();
    await stopLoad();
    // As after a crash: the daemon is gone at once (teardown kills its instances by PID).
    await sy.daemon.kill();
    await page.getByRole('alert').filter({ hasText: 'The daemon is not answering' }).waitFor({ timeout: 20_000 });
    await page.locator('.conn', { hasText: 'daemon unreachable' }).waitFor();
    await shoot(page, '7-unreachable-1280');
  });
});

describe('the dashboard with an admin token', { skip }, () => {
  let sy: Fixture;
  let browser: Browser;
  before(async () => {
    await mkdir(OUTPUT, { recursive: true });
    sy = await startFixture({ token: TOKEN });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await sy?.close();
  });

  it('serves a shell without data, and shows nothing until the token is given', { timeout: 60_000 }, async () => {
    const shell = await request(`${sy.adminUrl}/`, { reset: true });
    const html = await shell.body.text();
    assert.equal(shell.statusCode, 200);
    assert.doesNotMatch(html, /\bweb\b|\bv1\b/, 'the shell holds no data');
    assert.match(shell.headers['content-security-policy'] as string, /default-src 'none'/);
    assert.equal((await sy.api('GET', '/api/v1/services')).status, 200);
    const open = await request(`${sy.adminUrl}/api/v1/services`, { reset: true });
    await open.body.dump();
    assert.equal(open.statusCode, 401, 'the API stays closed without the token');

    const page = await browser.context.newPage();
    await page.goto(sy.adminUrl);
    await page.getByLabel('Token', { exact: true }).waitFor();
    assert.equal(await page.locator('.service-card').count(), 0);
    assert.doesNotMatch(await page.locator('body').innerText(), /\bweb\b|\bv1\b/);
    await shoot(page, '8-token-1280');
    await shoot(page, '9-token-390', PHONE);
    await page.setViewportSize(WIDE);

    await page.getByLabel('Token', { exact: true }).fill('not-the-token');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    assert.equal(await page.locator('.service-card').count(), 0);

    await page.getByLabel('Token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.service-card[data-service="web"]').waitFor();
    assert.deepEqual(await browser.context.cookies(), [], 'no cookie holds the token');
    // Asked once: a reload in the same tab goes straight to the data.
    await page.reload();
    await page.locator('.service-card[data-service="web"]').waitFor();
    assert.equal(await page.getByLabel('Token', { exact: true }).count(), 0);
    await shoot(page, '10-token-given-1280');
  });
});
