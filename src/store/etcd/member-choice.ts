// Which etcd member a call goes to. etcd3 picks a member at random per call and, with no policy, sends
// it there even when that member is cut off: a third of the calls then wait out their deadline, enough
// for every host's lease to lapse when one member was cut (found by test/cluster/scenarios). Instead,
// each call goes to the first member in the configured order (this host's own first) that is not being
// skipped; a member is skipped for SKIP_MS after it could not be reached at all. A timeout is not the
// member's fault (during a Raft election every member is slow), so it does not move calls elsewhere; and
// the last member not skipped is never skipped. A skipped member is never sent the call, so nothing is
// sent twice: etcd3 moves on to the next member only for a call that was not sent.
import { BrokenCircuitError, circuitBreaker, CircuitState, handleType, type CircuitBreakerPolicy, type IBreaker, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';
import { GRPCUnavailableError } from 'etcd3';

/** How long a member that could not be reached is skipped before a call tries it again. */
export const SKIP_MS = 2000;

export class MemberChoice {
  readonly #breakers: CircuitBreakerPolicy[] = [];

  /** The policy of the next member in the configured order (etcd3 calls `faultHandling.host` once per member, in order). */
  next(): IPolicy<IDefaultPolicyContext> {
    const index = this.#breakers.length;
    const breakers = this.#breakers;
    const breaker: IBreaker = {
      state: null,
      success: () => {},
      failure: () => breakers.some((b, i) => i !== index && b.state === CircuitState.Closed),
    };
    const inner = circuitBreaker(handleType(GRPCUnavailableError), { halfOpenAfter: SKIP_MS, breaker });
    breakers.push(inner);
    return {
      _altReturn: undefined as never,
      onSuccess: inner.onSuccess,
      onFailure: inner.onFailure,
      execute: (fn, signal) => {
        // A member earlier in the order is being asked: this one is not.
        if (breakers.slice(0, index).some((b) => b.state === CircuitState.Closed)) return Promise.reject(new BrokenCircuitError('an earlier etcd member is preferred'));
        return inner.execute(fn, signal);
      },
    };
  }

  /** For tests and status: whether calls would skip member `index` now. */
  skipped(index: number): boolean {
    return this.#breakers[index]?.state !== CircuitState.Closed;
  }
}
