// Debian's chromium (never a downloaded browser), headless, driven by playwright-core, on a fresh
// temporary profile. Teardown closes it, then SIGKILLs by PID any process still using that profile.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'switchyard-chromium-'));
  let context: BrowserContext;
  try {
    // Playwright takes the --user-data-dir as this argument (it refuses it in `args`).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  } catch (err) {
    killProfileProcesses(profile);
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    close: async () => {
      try {
        await Promise.race([context.close(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      } finally {
        killProfileProcesses(profile);
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}

/** SIGKILLs every process whose command line names the profile directory (the browser and its helpers). */
function killProfileProcesses(profile: string): void {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(profile)) continue;
    try {
      process.kill(Number(name), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
