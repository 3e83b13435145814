// One etcd client as switchyard wants it: every unary call has a deadline (a cut member must not hang a
// write for the ~7 s gRPC takes to notice), and no hidden retries: the callers retry what is safe to
// retry, and notice what is not. Calls go to this host's own member while it can be reached, else to the
// next one in the configured order (member-choice.ts).
import { ConstantBackoff, noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { MemberChoice } from './member-choice.js';

/** How long one etcd call may take unless the caller says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 2000;

export interface EtcdClientOptions {
  /** The local member first: agents talk to their own host's member (a partition then cuts them cleanly). */
  endpoints: readonly string[];
  callTimeoutMs?: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const timeout = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const choice = new MemberChoice();
  return new Etcd3({
    hosts: [...options.endpoints],
    dialTimeout: timeout,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    // A broken watch stream is re-established quickly; the watch feed re-lists when it stays quiet.
    faultHandling: {
      host: () => choice.next(),
      global: noop,
      watchBackoff: new ConstantBackoff(250).next(),
    },
  });
}
