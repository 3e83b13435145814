// A follower's admin API answers commands by passing them to the leader's: the same method, path, body
// and token, and the leader's answer (an event stream included) passed back as it comes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { ApiError } from '../api/api-error.js';

/** Forwards one admin request to `leaderUrl` (null: no leader now, 503). */
export async function forwardToLeader(req: IncomingMessage, res: ServerResponse, body: unknown, leaderUrl: string | null): Promise<void> {
  if (leaderUrl === null) throw new ApiError(503, 'no_leader', 'no controller leads the cluster right now; try again in a few seconds');
  const headers: Record<string, string> = { 'x-switchyard-forwarded': '1' };
  if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (req.headers['last-event-id'] !== undefined) headers['last-event-id'] = String(req.headers['last-event-id']);
  let answer;
  try {
    answer = await request(new URL(req.url ?? '/', leaderUrl), {
      method: (req.method ?? 'GET') as 'GET',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 0,
    });
  } catch (err) {
    throw new ApiError(502, 'leader_unreachable', `the leader's admin API at ${leaderUrl} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const pass: Record<string, string> = {};
  for (const name of ['content-type', 'cache-control', 'retry-after', 'www-authenticate']) {
    const value = answer.headers[name];
    if (typeof value === 'string') pass[name] = value;
  }
  res.writeHead(answer.statusCode, pass);
  req.on('close', () => answer.body.destroy());
  for await (const chunk of answer.body) res.write(chunk as Buffer);
  res.end();
}
