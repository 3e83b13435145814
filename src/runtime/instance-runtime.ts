// What deployments need from whatever runs instances: the local Supervisor on one host, or in a
// cluster the leader's view of every host's instances (src/cluster/cluster-supervisor.ts).
import type { Supervisor } from './supervisor.js';

export type InstanceRuntime = Pick<Supervisor, 'instances' | 'get' | 'onCrash' | 'reserve' | 'start' | 'whenReady' | 'stop' | 'adopt' | 'stopAll'> & {
  /**
   * Instances can be lost for good with the host they ran on (a cluster): a deployment step that finds
   * fewer than it needs starts replacements instead of failing. The local Supervisor restarts its own.
   */
  readonly replacesLost?: boolean;
};
