// Specification of `up` when a listener's port is taken: it checks every listener before it touches
// any instance or state, exits 2, and names the address and the process that holds it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, runCli, tempDir, type TempDir } from '../helpers/daemon.js';

describe('switchyard up with the proxy port taken', () => {
  let tmp: TempDir;
  let squatter: ChildProcess;
  let port: number;
  before(async () => {
    tmp = await tempDir();
    const script = "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port))";
    squatter = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve) => squatter.stdout!.setEncoding('utf8').once('data', (text: string) => resolve(Number(text.trim()))));
  });
  after(async () => {
    if (squatter.pid !== undefined && squatter.exitCode === null) process.kill(squatter.pid, 'SIGKILL');
    await tmp.remove();
  });

  it('exits 2 naming the address and who holds it, having started no instance and written no state', async () => {
    const marker = join(tmp.dir, 'instance-started');
    const file = await tmp.write(
      'switchyard.yaml',
      [
        `proxy: { listen: 127.0.0.1:${port} }`,
        `admin: { listen: 127.0.0.1:${await freePort()} }`,
        `state: ${join(tmp.dir, 'state')}`,
        'services:',
        '  web:',
        // Any instance that starts leaves a mark.
        `    run: { command: "touch ${marker}; exec sleep 30", version: v1 }`,
        '    health: { interval: 100ms, startTimeout: 5s }',
        '',
      ].join('\n'),
    );
    const { code, stderr } = await runCli(['up', '-c', file], { cwd: tmp.dir, timeout: 20_000 });
    assert.equal(code, 2, stderr);
    assert.match(stderr, new RegExp(`^switchyard: cannot listen on proxy\\.listen 127\\.0\\.0\\.1:${port}: the address is already in use, held by pid ${squatter.pid} \\(.*node`, 'm'));
    assert.equal(existsSync(marker), false, 'no instance was started');
    assert.equal(existsSync(join(tmp.dir, 'state')), false, 'no state was written');
  });
});
