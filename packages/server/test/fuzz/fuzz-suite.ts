/**
 * Bad input never breaks anything: thousands of random and malformed
 * requests, one at a time, against every route of a real server, on each
 * store. Each must be answered (no hang) without a 5xx; an error body must
 * carry a code from the table; and a rejected request must leave the store
 * exactly as it was (compared by a fingerprint of every table). The server
 * must still be healthy at the end.
 */
import { request } from 'node:http';
import { ERROR_CODES } from '@tether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { buildWorld, credentialsFor } from '../auth/auth-client.js';
import { fuzzRequest, random, type FuzzRequest } from './fuzz-requests.js';

export interface FuzzServer {
  server: RunningServer;
  /** A digest of everything the store holds (but when keys were last used). */
  fingerprint(): Promise<string>;
  stop(): Promise<void>;
}

const REQUESTS = Number(process.env.TETHER_FUZZ_REQUESTS ?? 2_000);
const TIMEOUT_MS = 10_000;

function sendRaw(url: string, fuzz: FuzzRequest): Promise<{ status: number; type: string; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...fuzz.headers };
    if (fuzz.body) headers['content-length'] = String(fuzz.body.length);
    const req = request({ hostname, port, method: fuzz.method, path: fuzz.path, headers }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      const chunks: Buffer[] = [];
      // A live event stream has answered once its head arrives.
      if (type.startsWith('text/event-stream')) {
        clearTimeout(timer);
        req.destroy();
        return resolve({ status: res.statusCode ?? 0, type, body: Buffer.alloc(0) });
      }
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, type, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer in ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(fuzz.body);
  });
}

export function describeFuzz(name: string, start: () => Promise<FuzzServer>): void {
  describe(`fuzzing every route (${name})`, () => {
    let fuzz: FuzzServer;
    beforeAll(async () => {
      fuzz = await start();
    });
    afterAll(() => fuzz?.stop());

    it(`answers ${REQUESTS} random and malformed requests without a 5xx, a hang or a half-write`, { timeout: 240_000 }, async () => {
      const { server } = fuzz;
      const keys = await credentialsFor(server);
      const worlds = [await buildWorld(server.url, keys), await buildWorld(server.url, keys), await buildWorld(server.url, keys)];
      const tokens = await Promise.all(worlds.map((w) => w.token(['read', 'write'])));
      const ctx = {
        routes: server.tether.routes.filter((r) => r.method !== 'OPTIONS'),
        worlds,
        credentials: [keys.admin, keys.admin, keys.client, keys.runner, keys.otherProject, tokens[0]!, tokens[1]!],
        maxMessageBytes: server.config.maxMessageBytes,
      };
      const seed = Number(process.env.TETHER_FUZZ_SEED ?? Date.now() % 1_000_000);
      const rng = random(seed);
      const statuses = new Map<number, number>();
      let rejected = 0;
      let before = await fuzz.fingerprint();
      for (let i = 0; i < REQUESTS; i++) {
        const req = fuzzRequest(rng, ctx);
        const what = `seed ${seed}, request ${i}: ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 300)} body ${req.body?.subarray(0, 100).toString('utf8') ?? '(none)'}`;
        let res;
        try {
          res = await sendRaw(server.url, req);
        } catch (error) {
          throw new Error(`${what}: ${(error as Error).message}`);
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${what} → ${res.body.toString('utf8').slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400 && res.type.startsWith('application/json') && res.body.length > 0) {
          const code = JSON.parse(res.body.toString('utf8'))?.error?.code;
          expect(Object.keys(ERROR_CODES), what).toContain(code);
        }
        const after = await fuzz.fingerprint();
        if (res.status >= 400) {
          rejected++;
          expect(after === before, `${what} was rejected with ${res.status} but changed the store`).toBe(true);
        }
        before = after;
      }
      expect((await sendRaw(server.url, { method: 'GET', path: '/readyz', headers: {} })).status).toBe(200);
      // Enough of both kinds to mean something.
      expect(rejected).toBeGreaterThan(REQUESTS / 4);
      expect(REQUESTS - rejected).toBeGreaterThan(REQUESTS / 50);
      console.info(`fuzz (${name}, seed ${seed}): ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    });
  });
}
