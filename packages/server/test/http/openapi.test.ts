import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';

describe('/openapi.json', () => {
  let server: RunningServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-openapi-'));
  beforeAll(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('describes every registered route', async () => {
    // Public: the API description needs no credential.
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const registered = server.tether.routes
      // OPTIONS is CORS preflight, answered for every path.
      .filter((r) => r.method !== 'OPTIONS')
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}')}`);
    expect(registered.length).toBeGreaterThan(10);
    for (const route of registered) expect([...documented], route).toContain(route);
  });

  it('carries the request and response schemas the routes validate with', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    const create = doc.paths['/v1/sessions'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(['externalId', 'tags', 'metadata', 'ttlSeconds']));
    expect(create.responses['201'].content['application/json'].schema.properties.session.properties.status.enum).toContain('waiting');
    // Bearer credentials everywhere but the public routes.
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/v1/sessions'].post.security).toBeUndefined();
    expect(create.responses['201'].content['application/json'].schema.required).toContain('token');
    const list = doc.paths['/v1/sessions'].get.parameters.map((p: { name: string }) => p.name);
    expect(list).toEqual(expect.arrayContaining(['status', 'tag', 'cursor', 'limit', 'createdAfter']));
  });
});
