// Specification: switchyard deploys any app that listens on $PORT, not just Node ones. A tiny Python 3
// stdlib app (written here, self-contained) is rolled v1 → v2 under load with zero failed requests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { isRunning, Switchyard } from '../helpers/deploy-harness.js';
import { describeFailures, Load, type LoadReport } from '../helpers/load.js';
import { waitFor } from '../helpers/wait.js';

const APP = `# A tiny app for switchyard tests: JSON with its version, /healthz, PORT and HOST from the environment,
# and a graceful stop on SIGTERM (requests in flight finish, then it exits 0).
import json, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = os.environ.get("APP_VERSION", "dev")


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a stop never waits on an idle keep-alive connection.
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.handle_request()

    def do_POST(self):
        self.handle_request()

    def handle_request(self):
        self.read_body()
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self.answer({"ok": True, "version": VERSION})
        sleep_ms = int(parse_qs(url.query).get("sleep", ["0"])[0])
        if sleep_ms > 0:
            time.sleep(sleep_ms / 1000)
        self.answer({"version": VERSION, "pid": os.getpid(), "path": url.path})

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    return
        length = int(self.headers.get("content-length") or 0)
        if length > 0:
            self.rfile.read(length)

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the request threads: in-flight requests finish
    block_on_close = True


server = Server((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print(f"python app {VERSION} listening on {server.server_address}", flush=True)
server.serve_forever()
server.server_close()
sys.exit(0)
`;

/** The real interpreter (not a version-manager shim), or null when there is no python3. */
function python(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

const PYTHON = python();

describe('a Python app', { skip: PYTHON === null ? 'no python3 on this machine' : false }, () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 2, command: [PYTHON!, 'app.py'], files: { 'app.py': APP } });
  });
  after(async () => sy?.close());

  it('is rolled from v1 to v2 with zero failed requests', async () => {
    const oldPids = (await sy.liveInstances()).map((i) => i.pid!);
    const load = Load.start({ url: sy.proxyUrl, workers: 6, slowWorkers: 4, slowMs: 3000, postShare: 0.2, pauseMs: 5, maxDurationMs: 120_000 });
    let report: LoadReport;
    try {
      await waitFor(() => load.count('v1') >= 30, { timeout: 30_000, message: 'v1 answers under load' });
      const { id } = await sy.deploy({ version: 'v2' });
      const done = await sy.finished(id, 120_000);
      assert.equal(done.state, 'succeeded', `${done.reason}\n${sy.logTail()}`);
      const finishedAt = Date.now();
      await waitFor(() => load.count('v2', (o) => o.start > finishedAt) >= 30, { timeout: 30_000, message: 'v2 answers after the deploy' });
    } finally {
      report = await load.stop();
    }
    assert.equal(report.failed, 0, describeFailures(report));
    assert.ok(report.outcomes.some((o) => o.slow && o.version === 'v1'), '3-second requests were answered by v1');
    const instances = await sy.liveInstances();
    assert.deepEqual(
      instances.map((i) => [i.version, i.state, i.inRotation]),
      [
        ['v2', 'ready', true],
        ['v2', 'ready', true],
      ],
    );
    for (const pid of oldPids) assert.equal(isRunning(pid), false, `old python process ${pid} still runs`);
    // The old instances stopped on SIGTERM within the stop timeout, not by SIGKILL.
    const stops = sy.events().filter((e) => e.type === 'instance.stopped');
    assert.equal(stops.length, 2);
    for (const stop of stops) assert.match(stop.message, /exited \d+ ms after SIGTERM/);
  });
});
