// Release-aware code: switchyard tells each request which release and cohort it was routed as, in a
// header it sets itself (a client's copy is removed), e.g. `x-switchyard-release: v2; cohort=canary`.
// An app can switch a feature on for canary users only, and know it cannot be forged from outside.

export const RELEASE_HEADER = process.env.SWITCHYARD_RELEASE_HEADER ?? 'x-switchyard-release';

/** { release: 'v2', cohort: 'canary' | 'stable' | 'preview' }; without the header (not behind switchyard): stable. */
export function routedAs(req) {
  const value = req.headers[RELEASE_HEADER];
  if (typeof value !== 'string') return { release: null, cohort: 'stable' };
  const [release, ...params] = value.split(';').map((part) => part.trim());
  const cohort = params.find((p) => p.startsWith('cohort='))?.slice('cohort='.length) ?? 'stable';
  return { release, cohort };
}
