import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { describePortOwner, findPortOwners } from './port-owner.js';

/** A child process listening on a free loopback port; resolves with the port once it listens. */
function listeningChild(): Promise<{ child: ChildProcess; port: number }> {
  const script = "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.setEncoding('utf8').once('data', (text: string) => resolve({ child, port: Number(text.trim()) }));
  });
}

describe('findPortOwners', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });

  it('names the process listening on a port, with its command line', async () => {
    const { child, port } = await listeningChild();
    children.push(child);
    const owners = findPortOwners(port);
    assert.equal(owners.length, 1);
    assert.equal(owners[0]!.pid, child.pid);
    assert.equal(owners[0]!.uid, process.getuid!());
    assert.match(describePortOwner(owners[0]!), new RegExp(`^pid ${child.pid} \\(.*node.* -e `));
  });

  it('finds nobody on a port nothing listens on, and ignores connected (not listening) sockets', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(findPortOwners(port), []);
  });

  it('says whose socket it is when the process cannot be seen', () => {
    assert.equal(describePortOwner({ pid: null, command: null, uid: 0 }), 'a process of user id 0 (not visible to this user)');
  });
});
