// The admin API's JSON as the dashboard reads it: the one declaration in src/api/wire.ts.
export type * from '../../api/wire.js';
export type { ClusterDaemonView, DaemonView } from '../../api/daemon-view.js';
