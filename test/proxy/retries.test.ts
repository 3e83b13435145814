// Specification of retries (invariant 5): a request moves to another endpoint only when it provably never
// reached an app, or when it is an idempotent request without a body and nothing was sent to the client;
// and a retry budget keeps retries from multiplying an outage.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { Exchange } from '../../src/proxy/exchange.js';
import type { ServicePolicy } from '../../src/proxy/routing-table.js';
import { refusedPort, startBackend, type Backend, type Handler } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

const agent = new Agent({ connections: 16 });

interface Answer {
  status: number;
  backend: string | undefined;
  error: string | undefined;
  body: string;
}

async function send(url: string, method: 'GET' | 'POST' = 'GET', body?: string): Promise<Answer> {
  const res = await request(url, { method, body, dispatcher: agent });
  const text = await res.body.text();
  const header = (name: string) => (res.headers[name] === undefined ? undefined : String(res.headers[name]));
  return { status: res.statusCode, backend: header('x-backend'), error: header('x-switchyard-error'), body: text };
}

/** Reads the whole request body, then destroys the connection without answering. */
const readThenReset: Handler = (req) => {
  req.resume();
  req.on('end', () => req.socket.destroy());
};

// Outlier ejection is off so it cannot hide a retry decision.
const NO_EJECTION: Partial<ServicePolicy> = {
  outlier: { consecutiveFailures: 1_000_000, baseEjectionTime: 1000, maxEjectionTime: 1000, maxEjectionPercent: 0 },
};

describe('retries', () => {
  const backends: Backend[] = [];
  let proxy: RunningProxy | undefined;
  let exchanges: Exchange[] = [];

  /** A proxy over the addresses in this order (round-robin tries the first one first). */
  async function proxyOver(addresses: string[], policy: Partial<ServicePolicy> = {}): Promise<RunningProxy> {
    exchanges = [];
    proxy = await startProxy(
      { services: [serviceSpec(addresses, { ...NO_EJECTION, ...policy })] },
      { observer: { onExchangeEnd: (x) => void exchanges.push(x) } },
    );
    return proxy;
  }

  async function backend(name: string, handler?: Handler): Promise<Backend> {
    const started = await startBackend(name, handler);
    backends.push(started);
    return started;
  }

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });
  after(() => agent.close());

  it('retries a GET whose connection was refused on another endpoint, and the client sees only the success', async () => {
    const live = await backend('live');
    const { url } = await proxyOver([`127.0.0.1:${await refusedPort()}`, live.address]);
    const answer = await send(`${url}/`);
    assert.deepEqual([answer.status, answer.backend, answer.error], [200, 'live', undefined]);
    assert.equal(exchanges[0]?.retries, 1);
    assert.equal(live.requests.length, 1);
  });

  it('does not replay a POST whose body reached an app that then reset the connection: 502, and no other backend sees it', async () => {
    const resetting = await backend('resetting', readThenReset);
    const other = await backend('other');
    const { url } = await proxyOver([resetting.address, other.address]);
    const answer = await send(`${url}/orders`, 'POST', 'x'.repeat(10_000));
    assert.equal(answer.status, 502);
    assert.equal(answer.error, 'upstream_reset');
    assert.equal(resetting.requests.length, 1, 'the app saw the POST exactly once');
    assert.equal(other.requests.length, 0, 'the POST was not replayed');
    assert.equal(exchanges[0]?.retries, 0);
  });

  it('retries a GET on another endpoint when the first one resets after reading it', async () => {
    const resetting = await backend('resetting', readThenReset);
    const other = await backend('other');
    const { url } = await proxyOver([resetting.address, other.address]);
    const answer = await send(`${url}/`);
    assert.deepEqual([answer.status, answer.backend], [200, 'other']);
    assert.equal(resetting.requests.length, 1);
    assert.equal(other.requests.length, 1);
  });

  it('routes a retry by the table current then: a slow GET whose instance died after a swap reaches the new instance', async () => {
    // The old instance takes the request, waits, and dies without a byte: a kill during a rolling step.
    let died = false;
    const dying = await backend('old', (req) => {
      req.resume();
      setTimeout(() => {
        died = true;
        req.socket.destroy();
      }, 400);
    });
    const fresh = await backend('new');
    const running = await proxyOver([dying.address]);
    const pending = send(`${running.url}/slow`);
    await waitFor(() => dying.requests.length === 1, { message: 'the old instance to have the request' });
    // The table moves on while the request is in flight: the old instance leaves, the new one enters.
    running.swap({ services: [serviceSpec([fresh.address], NO_EJECTION)] });
    const answer = await pending;
    assert.ok(died, 'the old instance reset the request');
    assert.deepEqual([answer.status, answer.backend], [200, 'new'], JSON.stringify(answer));
  });

  it('sends a retry after a swap the path the new table rewrites: one table per attempt, never a mix', async () => {
    const dying = await backend('old', (req) => {
      req.resume();
      setTimeout(() => req.socket.destroy(), 400);
    });
    const fresh = await backend('new');
    const api = (addresses: string[], stripPrefix: boolean) => serviceSpec(addresses, NO_EJECTION, { match: { hosts: [], pathPrefix: '/api', stripPrefix } });
    exchanges = [];
    proxy = await startProxy({ services: [api([dying.address], false)] });
    const pending = send(`${proxy.url}/api/slow?x=1`);
    await waitFor(() => dying.requests.length === 1, { message: 'the old instance to have the request' });
    // The new table strips the prefix: the retry it routes must be sent the stripped path.
    proxy.swap({ services: [api([fresh.address], true)] });
    const answer = await pending;
    assert.deepEqual([answer.status, answer.backend], [200, 'new'], JSON.stringify(answer));
    assert.deepEqual([dying.requests[0]!.url, fresh.requests[0]!.url], ['/api/slow?x=1', '/slow?x=1']);
  });

  it('retries a POST whose connection was refused, with its whole body, since it never reached an app', async () => {
    const live = await backend('live');
    const { url } = await proxyOver([`127.0.0.1:${await refusedPort()}`, live.address]);
    const body = 'y'.repeat(50_000);
    const answer = await send(`${url}/orders`, 'POST', body);
    assert.deepEqual([answer.status, answer.backend], [200, 'live'], `${answer.status} ${answer.body}`);
    assert.equal(answer.body, 'live');
    assert.equal(live.requests.length, 1);
    assert.equal(exchanges[0]?.retries, 1);
  });

  it('does not retry at all with retries: 0', async () => {
    const live = await backend('live');
    const { url } = await proxyOver([`127.0.0.1:${await refusedPort()}`, live.address], { retries: 0 });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send(`${url}/`));
    assert.deepEqual(
      answers.map((x) => x.error ?? x.backend),
      ['upstream_connect_failed', 'live', 'upstream_connect_failed', 'live'],
    );
    assert.ok(answers.every((x) => x.status === (x.error ? 502 : 200)));
    assert.ok(exchanges.every((x) => x.retries === 0));
  });

  it('stops retrying once the retry budget is spent, instead of multiplying an outage', async () => {
    // Apps that read each request and then reset: work done, so every retry adds load to an app.
    const resetting = await Promise.all([backend('r1', readThenReset), backend('r2', readThenReset), backend('r3', readThenReset)]);
    const live = await backend('live');
    const addresses = [...resetting.map((b) => b.address), live.address];
    // ratio 0 and minPerSecond 1: at most 10 retries in the 10 s window, however many requests.
    const { url } = await proxyOver(addresses, { retries: 3, retryBudget: { ratio: 0, minPerSecond: 1 } });
    const answers: Answer[] = [];
    for (let i = 0; i < 60; i++) answers.push(await send(`${url}/`));

    const retries = exchanges.reduce((sum, x) => sum + x.retries, 0);
    assert.equal(retries, 10, 'exactly the budget was spent');
    const ok = answers.filter((x) => x.status === 200);
    const failed = answers.filter((x) => x.status !== 200);
    assert.ok(ok.every((x) => x.backend === 'live'));
    assert.equal(live.requests.length, ok.length);
    assert.ok(failed.every((x) => x.status === 502 && x.error === 'upstream_reset'));
    // Round-robin starts 3 of every 4 requests on a resetting endpoint; without retries those fail.
    assert.ok(failed.length >= 30, `${failed.length} of 60 failed once the budget was spent`);
    const lastRetried = exchanges.findLastIndex((x) => x.retries > 0);
    assert.ok(
      exchanges.slice(lastRetried + 1).some((x) => x.errorCode === 'upstream_reset'),
      'requests after the budget ran out failed instead of retrying',
    );
  });

  it('moves a request whose connection was refused to another endpoint whatever the budget: no app saw it', async () => {
    // A dead host's endpoints stay in the tables until its lease ends: every request that meets one
    // must go elsewhere, however many there are.
    const live = await backend('live');
    const refused = await Promise.all([refusedPort(), refusedPort()]);
    const { url } = await proxyOver([...refused.map((port) => `127.0.0.1:${port}`), live.address], { retries: 2, retryBudget: { ratio: 0, minPerSecond: 0 } });
    const answers: Answer[] = [];
    for (let i = 0; i < 30; i++) answers.push(await send(`${url}/`));
    assert.deepEqual(new Set(answers.map((x) => `${x.status} ${x.backend}`)), new Set(['200 live']));
    assert.ok(exchanges.some((x) => x.retries === 2), 'some requests met both refused endpoints first');
    assert.equal(live.requests.length, 30);
  });

  it(
    'follows a retry budget changed by a table swap (a config reload)',
    async () => {
      const resetting = await backend('resetting', readThenReset);
      const live = await backend('live');
      const addresses = [resetting.address, live.address];
      const running = await proxyOver(addresses, { retryBudget: { ratio: 0, minPerSecond: 0 } });
      const denied = await send(`${running.url}/`);
      assert.deepEqual([denied.status, denied.error], [502, 'upstream_reset'], 'no budget, no retry');

      running.swap({ services: [serviceSpec(addresses, { ...NO_EJECTION, retryBudget: { ratio: 0.2, minPerSecond: 5 } })] });
      // The new table's round-robin starts on the resetting endpoint again.
      const allowed = await send(`${running.url}/`);
      assert.deepEqual([allowed.status, allowed.backend], [200, 'live'], 'the new budget allows the retry');
    },
  );
});
