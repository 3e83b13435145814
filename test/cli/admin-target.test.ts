// Specification of how the CLI finds its daemon, as an operator at 2 a.m. relies on it: a config that
// was named and cannot be used is an error (nothing is sent anywhere), and something that is not a
// switchyard admin API is recognised as such. Runs the built CLI against real local HTTP servers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli, tempDir, type TempDir } from '../helpers/daemon.js';

/** A plain HTTP server that is not switchyard: it counts requests and answers with `answer`. */
async function stranger(answer: { status: number; type: string; body: string }): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    res.writeHead(answer.status, { 'content-type': answer.type });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe('which daemon the CLI talks to', () => {
  let tmp: TempDir;
  let html: Awaited<ReturnType<typeof stranger>>;
  let json: Awaited<ReturnType<typeof stranger>>;
  before(async () => {
    tmp = await tempDir();
    html = await stranger({ status: 200, type: 'text/html', body: '<html><body>my shop</body></html>' });
    // What the proxy answers when no service matches: JSON, but not the admin API's.
    json = await stranger({ status: 404, type: 'application/json', body: '{"error":"no_route"}' });
  });
  after(async () => {
    await new Promise((resolve) => html.server.close(resolve));
    await new Promise((resolve) => json.server.close(resolve));
    await tmp.remove();
  });

  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: tmp.dir, env });

  it('refuses to fall back to another daemon when the named config does not exist (exit 2, nothing sent)', async () => {
    // SWITCHYARD_ADMIN would give an address, but the named config's token cannot be known.
    const { code, stdout, stderr } = await cli(['deploy', 'web', '--version', 'v10', '-c', 'prod.yaml'], { SWITCHYARD_ADMIN: html.url });
    assert.equal(code, 2, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /^switchyard: prod\.yaml cannot be used to find the daemon, so nothing was sent:$/m);
    assert.match(stderr, /prod\.yaml: cannot read the config: no such file/);
    assert.deepEqual(html.requests, []);
  });

  it('refuses a named config whose ${SWITCHYARD_TOKEN} is unset, rather than the default address', async () => {
    const port = new URL(html.url).port;
    await tmp.write('prod.yaml', `admin:\n  listen: 127.0.0.1:${port}\n  token: \${SWITCHYARD_TOKEN}\nservices:\n  web:\n    targets: [127.0.0.1:3000]\n`);
    const { code, stderr } = await cli(['deploy', 'web', '--version', 'v10', '-c', 'prod.yaml']);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /prod\.yaml:3: admin\.token: .*SWITCHYARD_TOKEN/);
    assert.deepEqual(html.requests, []);
  });

  it('exits 3 with a sentence, not a stack trace, when --admin points at something that is not switchyard', async () => {
    for (const target of [html, json]) {
      const { code, stdout, stderr } = await cli(['status', '--admin', target.url]);
      assert.equal(code, 3, stderr);
      assert.equal(stdout, '');
      assert.doesNotMatch(stderr, /TypeError|\n\s+at /);
      assert.match(stderr, new RegExp(`^switchyard: ${target.url.replace(/\./g, '\\.')} \\(from --admin\\) answered, but it is not a switchyard admin API \\(HTTP ${target === html ? '200, text/html' : '404, application/json'}\\)`));
      assert.match(stderr, /admin\.listen/);
    }
    const deploy = await cli(['deploy', 'web', '--version', 'v2', '--admin', json.url]);
    assert.equal(deploy.code, 3, deploy.stderr);
  });

  it('says which daemon an acting command uses, and where that address came from', async () => {
    const { stderr } = await cli(['pause', 'web', '--admin', json.url]);
    assert.match(stderr, new RegExp(`^switchyard: using the daemon at ${json.url.replace(/\./g, '\\.')} \\(from --admin\\)$`, 'm'));
  });

  it('prints its version with --version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const { code, stdout } = await cli(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout.trim(), version);
  });
});
