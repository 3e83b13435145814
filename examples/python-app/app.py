"""Example app in Python (standard library only) to show switchyard runs any language.

Answers every request with its version, has /healthz, listens on $HOST:$PORT (switchyard sets both),
and on SIGTERM finishes in-flight requests before exiting.
"""
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("APP_VERSION", "dev")
LATENCY_S = float(os.environ.get("LATENCY_MS", "0")) / 1000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, {"ok": True, "version": VERSION})
        if LATENCY_S:
            time.sleep(LATENCY_S)
        self.reply(200, {"version": VERSION, "language": "python", "path": self.path})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.reply(200, {"version": VERSION, "received": length})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-app-version", VERSION)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def main():
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "3000"))), Handler)
    server.daemon_threads = False  # join request threads on close: in-flight requests finish
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"python app {VERSION} listening on {server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
