// Telling systemd (Type=notify, NotifyAccess=all) that the daemon is ready, and which process is its main
// one after an upgrade: `systemd-notify` speaks the protocol; nothing happens outside systemd.
import { spawnSync } from 'node:child_process';

export function notifySystemd(...states: string[]): void {
  if (!process.env.NOTIFY_SOCKET) return;
  spawnSync('systemd-notify', [`--pid=${process.pid}`, ...states], { stdio: 'ignore', timeout: 5000 });
}
