// One etcd client as switchyard wants it: every unary call has a deadline (a cut member must not hang a
// write for the ~7 s gRPC takes to notice), and no hidden retries or circuit breakers: the callers retry
// what is safe to retry, and notice what is not.
import { ConstantBackoff, noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';

/** How long one etcd call may take unless the caller says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 2000;

export interface EtcdClientOptions {
  /** The local member first: agents talk to their own host's member (a partition then cuts them cleanly). */
  endpoints: readonly string[];
  callTimeoutMs?: number;
}

export function createEtcdClient(options: EtcdClientOptions): Etcd3 {
  const timeout = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  return new Etcd3({
    hosts: [...options.endpoints],
    dialTimeout: timeout,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    // A broken watch stream is re-established quickly; the watch feed re-lists when it stays quiet.
    faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(250).next() },
  });
}
