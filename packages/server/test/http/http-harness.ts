/**
 * A real listening server on a temporary data directory, and a raw HTTP
 * client for it. The client uses `node:http` rather than `fetch` so paths are
 * sent exactly as written (`fetch` would resolve `..` and re-encode escapes).
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server.js';
import type { ServerConfig } from '../../src/config.js';
import { adminKeyOf } from '../support/credentials.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  /** Send the body with chunked transfer encoding instead of Content-Length. */
  chunked?: boolean;
  /** Send no credential (by default the server's admin key goes in `Authorization`). */
  anonymous?: boolean;
}

export interface TestServer {
  server: RunningServer;
  url: string;
  /** The admin key the server created on its first start. */
  key: string;
  send(method: string, path: string, options?: RequestOptions): Promise<RawResponse>;
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tether-http-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent', ...overrides });
  const key = await adminKeyOf(server);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const { hostname, port } = new URL(server.url);
  const send = (method: string, path: string, options: RequestOptions = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const body = options.body === undefined ? undefined : Buffer.from(options.body);
      const headers: Record<string, string | string[]> = options.anonymous ? { ...options.headers } : { authorization: `Bearer ${key}`, ...options.headers };
      if (body && !options.chunked) headers['content-length'] = String(body.length);
      const req = request({ agent, hostname, port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  return {
    server,
    url: server.url,
    key,
    send,
    stop: async () => {
      agent.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function header(response: RawResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The `{ error: { code, message } }` body of an error response, or null if it has another shape. */
export function errorOf(response: RawResponse): { code: string; message: string } | null {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = parsed.error ?? {};
    return typeof code === 'string' && typeof message === 'string' ? { code, message } : null;
  } catch {
    return null;
  }
}
