// Invariant 8 with hash keys: during a canary walked 10% → 50% → 100% by promote, 40 clients keyed by
// an x-user-id header (no cookies) each stay on one release within a step, and only ever move onto
// the canary as its weight grows, never back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';

const CLIENTS = 40;
const VISITS = 4;

describe('a canary with hash-keyed sticky versions', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({
      instances: 2,
      deploy: {
        strategy: 'canary',
        canary: { steps: [{ weight: 10, pause: 'indefinite' }, { weight: 50, pause: 'indefinite' }], sticky: { hashKey: { header: 'x-user-id' } } },
      },
    });
  });
  after(async () => sy?.close());

  /** Each client's versions over VISITS requests. */
  async function round(): Promise<string[][]> {
    const rounds: string[][] = [];
    for (let c = 0; c < CLIENTS; c++) rounds.push(await sy.versions(VISITS, { 'x-user-id': `user-${c}` }));
    return rounds;
  }

  async function waitForWeight(weight: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const view = await sy.service();
      if (view.releases.some((r) => r.version === 'v2' && r.traffic === weight)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`v2 never reached ${weight}%`);
  }

  it('keeps each keyed client on one release per step, moving only onto the canary, through 10 → 50 → 100%', async () => {
    const { id } = await sy.deploy({ version: 'v2' });
    const steps: string[][][] = [];
    await waitForWeight(10);
    steps.push(await round());
    await sy.action('promote');
    await waitForWeight(50);
    steps.push(await round());
    await sy.action('promote');
    const done = await sy.finished(id, 60_000);
    assert.equal(done.state, 'succeeded', String(done.reason));
    steps.push(await round());

    const names = ['10%', '50%', '100%'];
    for (let c = 0; c < CLIENTS; c++) {
      const path = steps.map((s) => s[c]!);
      for (const [i, visits] of path.entries()) assert.equal(new Set(visits).size, 1, `user-${c} flipped within the ${names[i]} step: ${visits.join(' ')}`);
      const versions = path.map((v) => v[0]!);
      for (let i = 1; i < versions.length; i++) {
        assert.ok(!(versions[i - 1] === 'v2' && versions[i] === 'v1'), `user-${c} went back from v2 to v1: ${versions.join(' → ')}`);
      }
      assert.equal(versions[2], 'v2', 'everyone is on v2 at 100%');
    }
    // The steps were real splits: some clients on each side at 10% and at 50%, more on v2 at 50%.
    const onCanary = steps.map((s) => s.filter((v) => v[0] === 'v2').length);
    assert.ok(onCanary[0]! > 0 && onCanary[0]! < CLIENTS / 2, `${onCanary[0]} of ${CLIENTS} on the canary at 10%`);
    assert.ok(onCanary[1]! > onCanary[0]! && onCanary[1]! < CLIENTS, `${onCanary[1]} of ${CLIENTS} on the canary at 50%`);
  });
});
