import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokenCircuitError, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';
import { GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { MemberChoice } from './member-choice.js';

type Answer = 'ok' | 'unreachable' | 'timeout';

/** What etcd3's pool does with a call: each member in turn until one takes it; returns who answered or failed. */
async function call(policies: IPolicy<IDefaultPolicyContext>[], answers: Answer[]): Promise<string> {
  for (const [i, policy] of policies.entries()) {
    try {
      return await policy.execute(() => {
        if (answers[i] === 'unreachable') throw new GRPCUnavailableError('No connection established');
        if (answers[i] === 'timeout') throw new GRPCDeadlineExceededError('Deadline exceeded');
        return `answered by ${i}`;
      });
    } catch (err) {
      if (isBrokenCircuitError(err)) continue;
      return `failed at ${i}`;
    }
  }
  return 'no member took it';
}

describe('choosing the etcd member a call goes to', () => {
  it('asks this host’s own member while it can be reached, and the next one while it cannot', async () => {
    const choice = new MemberChoice();
    const members = [choice.next(), choice.next(), choice.next()];
    assert.equal(await call(members, ['ok', 'ok', 'ok']), 'answered by 0');
    assert.equal(await call(members, ['unreachable', 'ok', 'ok']), 'failed at 0');
    assert.ok(choice.skipped(0));
    assert.equal(await call(members, ['unreachable', 'ok', 'ok']), 'answered by 1');
  });

  it('keeps asking a member that is only slow (a Raft election makes every member slow)', async () => {
    const choice = new MemberChoice();
    const members = [choice.next(), choice.next()];
    assert.equal(await call(members, ['timeout', 'ok']), 'failed at 0');
    assert.equal(choice.skipped(0), false);
    assert.equal(await call(members, ['ok', 'ok']), 'answered by 0');
  });

  it('never skips the last member it can still ask', async () => {
    const choice = new MemberChoice();
    const members = [choice.next(), choice.next()];
    await call(members, ['unreachable', 'ok']);
    assert.equal(await call(members, ['unreachable', 'unreachable']), 'failed at 1');
    assert.equal(choice.skipped(1), false);
    assert.equal(await call(members, ['unreachable', 'ok']), 'answered by 1');
    const only = new MemberChoice();
    const single = [only.next()];
    await call(single, ['unreachable']);
    assert.equal(await call(single, ['ok']), 'answered by 0');
  });
});
