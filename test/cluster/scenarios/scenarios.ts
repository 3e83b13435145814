// The faults of `npm run test:cluster`, each injected during a deploy once the new release has a ready
// instance; each returns the figures it measured. run.ts counts the client's failures, the ledger and
// the history audit around each one.
import type { DeploymentDetail } from '../../helpers/deploy-harness.js';
import { waitFor } from '../../helpers/wait.js';
import { HOSTS, LEASE_TTL_MS, signal, VIP_HOSTS, type ClusterLab, type Host } from './lab.js';

export interface ScenarioContext {
  lab: ClusterLab;
  nextVersion: () => string;
  /** Says a host was cut off the network: a POST its app recorded whose answer never came is excused. */
  cut: (host: Host) => void;
  /**
   * Says the switchyard of the host holding the virtual IP was SIGKILLed at `at` (epoch ms): a POST whose
   * connection it held (or accepted while dying) was reset with it, which nothing else could have held.
   */
  killedVipHolder: (host: Host, at: number) => void;
}

export interface Scenario {
  name: string;
  run(context: ScenarioContext): Promise<string>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function leaderOf(lab: ClusterLab, askFirst: readonly Host[] = HOSTS): Promise<Host> {
  return waitFor(async () => {
    for (const host of askFirst) {
      const view = await lab.cluster(host).catch(() => undefined);
      if (view?.leader !== undefined && view.leader !== null) return view.leader as Host;
    }
    return undefined;
  }, { timeout: 30_000, interval: 200, message: 'a controller leader' });
}

/** Waits until `ask` sees a leader other than `old`; returns it. */
function newLeader(lab: ClusterLab, ask: Host, old: Host): Promise<string> {
  return waitFor(async () => {
    const view = await lab.cluster(ask).catch(() => undefined);
    return view?.leader !== undefined && view.leader !== null && view.leader !== old ? view.leader : undefined;
  }, { timeout: LEASE_TTL_MS + 10_000, interval: 50, message: `a leader other than ${old}` });
}

/** Starts a deploy through `via`, waits for a ready instance of the new release, runs `fault`, waits for the end. */
async function deployDuring(
  { lab, nextVersion }: ScenarioContext,
  options: { via: Host; strategy: 'rolling' | 'canary'; askAfter: readonly Host[] },
  fault: (version: string) => Promise<string>,
): Promise<{ figures: string; deployment: DeploymentDetail }> {
  const version = nextVersion();
  const started = await lab.deploy(options.via, { version, strategy: options.strategy });
  await waitFor(async () => {
    const view = await lab.cluster(options.via).catch(() => undefined);
    return view?.hosts.some((h) => h.instances.some((i) => i.id.includes(`-${version}-`) && i.state === 'ready' && i.healthy)) ?? false;
  }, { timeout: 60_000, interval: 100, message: `a ready instance of ${version}` });
  const before = await lab.deployment(options.via, started.id);
  if (before?.state !== 'progressing') throw new Error(`the deployment of ${version} was ${before?.state} before the fault`);
  const figures = await fault(version);
  const deployment = await lab.untilFinished(options.askAfter, started.id);
  if (deployment.state !== 'succeeded') throw new Error(`the deployment of ${version} ended ${deployment.state}: ${deployment.reason}`);
  return { figures, deployment };
}

const vipHolderKilled: Scenario = {
  name: 'SIGKILL the VIP holder’s switchyard',
  async run(context) {
    const { lab } = context;
    const holder = lab.vipHolder();
    if (holder === null) throw new Error('no host holds the virtual IP');
    const other = VIP_HOSTS.find((h) => h !== holder)!;
    const leader = await leaderOf(lab);
    const via = leader === holder ? other : leader;
    const { figures } = await deployDuring(context, { via, strategy: 'rolling', askAfter: HOSTS.filter((h) => h !== holder) }, async () => {
      const pids = await lab.switchyardPids(holder);
      const killedAt = Date.now();
      context.killedVipHolder(holder, killedAt);
      for (const { pid } of pids) signal(pid, 'SIGKILL');
      await waitFor(() => lab.vipHolder() === other, { timeout: 20_000, interval: 20, message: `the virtual IP to move to ${other}` });
      return `the virtual IP moved from ${holder} to ${other} in ${seconds(Date.now() - killedAt)}`;
    });
    lab.startSwitchyard(holder);
    await lab.untilServing(holder);
    await lab.untilAllLive();
    if (lab.vipHolder() !== other) throw new Error(`the virtual IP went back to ${String(lab.vipHolder())} when ${holder} came back (nopreempt)`);
    return `${figures}; ${holder} back and live, the address stays on ${other}`;
  },
};

const leaderHostCut: Scenario = {
  name: 'cut the controller leader’s host off the network',
  async run(context) {
    const { lab } = context;
    const leader = await leaderOf(lab);
    const rest = HOSTS.filter((h) => h !== leader);
    let figures = '';
    let next = '';
    let deployment: DeploymentDetail;
    try {
      ({ deployment } = await deployDuring(context, { via: rest[0]!, strategy: 'canary', askAfter: rest }, async () => {
        const cutAt = Date.now();
        context.cut(leader);
        await lab.link(leader, 'down');
        next = await newLeader(lab, rest[0]!, leader);
        const electedMs = Date.now() - cutAt;
        figures = `${next} leads ${seconds(electedMs)} after ${leader} was cut (lease ${seconds(LEASE_TTL_MS)})`;
        if (electedMs > LEASE_TTL_MS + 4000) throw new Error(`a new leader only after ${electedMs} ms`);
        return figures;
      }));
    } finally {
      await lab.link(leader, 'up');
    }
    if (!deployment.events.some((e) => e.type === 'deployment.resumed')) throw new Error('the new leader did not resume the deployment from its stored steps');
    await lab.untilAllLive();
    // Back on the network, it follows the leader elected while it was away (its view catches up first).
    await waitFor(async () => (await lab.cluster(leader)).leader === next, { timeout: 15_000, interval: 100, message: `${leader} to follow ${next}` });
    return `${figures}; deployment resumed and finished; ${leader} back as a follower`;
  },
};

const leaderPaused: Scenario = {
  name: 'SIGSTOP the controller leader past its lease, then SIGCONT',
  async run(context) {
    const { lab } = context;
    const leader = await leaderOf(lab);
    const rest = HOSTS.filter((h) => h !== leader);
    const controller = (await lab.switchyardPids(leader)).find((p) => p.role === 'controller');
    if (controller === undefined) throw new Error(`no controller process on ${leader}`);
    let figures = '';
    const done = await deployDuring(context, { via: rest[0]!, strategy: 'rolling', askAfter: rest }, async () => {
      const stoppedAt = Date.now();
      signal(controller.pid, 'SIGSTOP');
      try {
        const next = await newLeader(lab, rest[0]!, leader);
        const electedMs = Date.now() - stoppedAt;
        // Held past twice its lease, so its timers are all overdue when it wakes.
        await waitFor(() => Date.now() - stoppedAt >= 2 * LEASE_TTL_MS, { timeout: 2 * LEASE_TTL_MS + 1000, interval: 50, message: 'twice the lease' });
        figures = `${next} leads ${seconds(electedMs)} after ${leader}’s controller stopped`;
      } finally {
        signal(controller.pid, 'SIGCONT');
      }
      const resumedAt = Date.now();
      const view = await waitFor(async () => {
        const seen = await lab.cluster(leader).catch(() => undefined);
        return seen !== undefined && seen.leader !== leader ? seen : undefined;
      }, { timeout: 15_000, interval: 50, message: `${leader} to stand down after SIGCONT` });
      return `${figures}; after SIGCONT it stood down in ${seconds(Date.now() - resumedAt)} (sees ${view.leader ?? 'no one'} leading)`;
    });
    return `${done.figures}; the deployment finished`;
  },
};

const etcdLeaderKilled: Scenario = {
  name: 'SIGKILL the etcd Raft leader',
  async run(context) {
    const { lab } = context;
    const killed = await lab.etcdLeader();
    const leader = await leaderOf(lab);
    const via = HOSTS.find((h) => h !== killed) ?? leader;
    let figures = '';
    await deployDuring(context, { via, strategy: 'canary', askAfter: HOSTS.filter((h) => h !== killed) }, async () => {
      const killedAt = Date.now();
      await lab.killEtcd(killed);
      const next = await waitFor(async () => {
        const host = await lab.etcdLeader(killed).catch(() => undefined);
        return host !== undefined && host !== killed ? host : undefined;
      }, { timeout: 20_000, interval: 100, message: 'a new etcd leader' });
      figures = `etcd member on ${killed} killed, ${next}’s member leads Raft ${seconds(Date.now() - killedAt)} later`;
      return figures;
    });
    lab.startEtcd(killed);
    await lab.untilEtcdHealthy(killed);
    await lab.untilAllLive();
    return `${figures}; the deployment finished; the member rejoined`;
  },
};

const compaction: Scenario = {
  name: 'etcdctl compact while the proxies watch',
  async run(context) {
    const { lab } = context;
    const via = await leaderOf(lab);
    let compactedAt = 0;
    const { deployment } = await deployDuring(context, { via, strategy: 'rolling', askAfter: HOSTS }, async () => {
      const status = JSON.parse(await lab.etcdctl(['get', lab.prefix, '--prefix', '--keys-only', '--limit', '1', '-w', 'json'])) as { header: { revision: number } };
      await lab.etcdctl(['compact', String(status.header.revision), '--physical']);
      compactedAt = status.header.revision;
      return `compacted at revision ${compactedAt}`;
    });
    // Every host routes by the same revision soon after the last change: as each host reports it,
    // read at one moment from one host (three separate reads could straddle a change).
    const finishedAt = Date.now();
    let seen: number[] = [];
    const revisions = await waitFor(async () => {
      const view = await lab.cluster(via);
      seen = view.hosts.filter((h) => h.live).map((h) => h.revision);
      return seen.length === HOSTS.length && seen.every((r) => r === seen[0]) && seen[0]! > compactedAt ? seen : undefined;
    }, { timeout: 10_000, interval: 50, message: 'every host at one revision' }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last seen ${seen.join(', ')} (compacted at ${compactedAt})`);
    });
    return `compacted at revision ${compactedAt} mid-deploy (deployment ${deployment.id}); every host at revision ${revisions[0]} ${seconds(Date.now() - finishedAt)} after the deployment was seen done`;
  },
};

const packetLoss: Scenario = {
  name: '10% packet loss on the VIP holder',
  async run(context) {
    const { lab } = context;
    const lossy = lab.vipHolder() ?? 'h2';
    const leader = await leaderOf(lab);
    const via = HOSTS.find((h) => h !== lossy && h !== leader) ?? leader;
    await lab.nft(lossy, [
      'table inet switchyard_loss {',
      '  chain input { type filter hook input priority -10; policy accept; iifname "eth0" numgen random mod 100 < 10 drop; }',
      '  chain output { type filter hook output priority -10; policy accept; oifname "eth0" numgen random mod 100 < 10 drop; }',
      '}',
      '',
    ].join('\n'));
    try {
      const { figures } = await deployDuring(context, { via, strategy: 'rolling', askAfter: HOSTS }, async () => `10% of packets dropped each way on ${lossy} for the whole deploy`);
      return `${figures}; the deployment finished`;
    } finally {
      await lab.nftDelete(lossy, 'switchyard_loss');
    }
  },
};

export const SCENARIOS: Scenario[] = [vipHolderKilled, leaderHostCut, leaderPaused, etcdLeaderKilled, compaction, packetLoss];
