// Real HTTP backends on 127.0.0.1:0 for tests, with a handle to count requests and close them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, backend: Backend) => void;

export interface Backend {
  name: string;
  server: Server;
  port: number;
  address: string;
  /** Requests received, by the time they arrived. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** Answers 200 with its name, after reading the whole request body. */
export const echoName: Handler = (req, res, backend) => {
  let size = 0;
  req.on('data', (chunk: Buffer) => (size += chunk.length));
  req.on('end', () => {
    res.setHeader('x-backend', backend.name);
    res.setHeader('x-received-bytes', String(size));
    res.end(backend.name);
  });
};

export async function startBackend(name: string, handler: Handler = echoName): Promise<Backend> {
  const sockets = new Set<Socket>();
  const backend = { name, requests: [] as IncomingMessage[] } as unknown as Backend;
  const server = createServer((req, res) => {
    backend.requests.push(req);
    handler(req, res, backend);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(backend, {
    server,
    port,
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
  return backend;
}

/** A port that refuses connections: bound then released. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
