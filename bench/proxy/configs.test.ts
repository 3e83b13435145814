import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { haproxyConfig, nginxConfig } from './configs.js';
import { isInstalled } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ports = { listen: 18081, backend: 18082 };

describe('proxy configs the bench writes', () => {
  it('gives nginx one foreground process, pooled upstream connections and no access log', () => {
    const conf = nginxConfig(ports, dir);
    for (const directive of ['daemon off;', 'master_process off;', 'worker_processes 1;', 'keepalive 64;', 'proxy_http_version 1.1;', 'proxy_set_header Connection "";', 'access_log off;']) {
      assert.ok(conf.includes(directive), directive);
    }
  });

  it('is accepted by nginx -t', { skip: !isInstalled('nginx') && 'nginx not installed' }, () => {
    const path = join(dir, 'nginx.conf');
    writeFileSync(path, nginxConfig(ports, dir));
    const out = spawnSync('nginx', ['-t', '-e', join(dir, 'error.log'), '-p', dir, '-c', path], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
  });

  it('is accepted by haproxy -c', { skip: !isInstalled('haproxy') && 'haproxy not installed' }, () => {
    const path = join(dir, 'haproxy.cfg');
    writeFileSync(path, haproxyConfig(ports));
    const out = spawnSync('haproxy', ['-c', '-f', path], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stdout + out.stderr);
  });
});
