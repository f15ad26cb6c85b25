import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';

/** A GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web console routes', () => {
  const root = mkdtempSync(join(tmpdir(), 'tether-console-'));
  const dir = join(root, 'dist');
  const INDEX = '<!doctype html><title>console</title><script type="module" src="/assets/app-3f2a.js"></script>';
  let server: RunningServer;
  let bare: RunningServer;

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets', 'fonts'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), INDEX);
    writeFileSync(join(dir, 'assets', 'app-3f2a.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'app-3f2a.css'), 'body{}');
    writeFileSync(join(dir, 'assets', 'fonts', 'inter.woff2'), 'font');
    writeFileSync(join(dir, 'secret.txt'), 'inside the build dir but not an asset');
    writeFileSync(join(root, 'outside.txt'), 'OUTSIDE-THE-BUILD');
    server = await startServer({ port: 0, dataDir: join(root, 'data'), logLevel: 'silent', consoleDir: dir });
    bare = await startServer({ port: 0, dataDir: join(root, 'data-bare'), logLevel: 'silent', consoleDir: null });
  });
  afterAll(async () => {
    await server?.stop();
    await bare?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers index.html, never cached without revalidation, for every console page', async () => {
    for (const path of ['/', '/sessions', '/sessions/ses_01HZZZZZZZZZZZZZZZZZZZZZZZ', '/inbox', '/sign-in']) {
      const response = await fetch(server.url + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await response.text()).toBe(INDEX);
    }
  });

  it('serves hashed assets with their content type and a year of caching', async () => {
    const js = await fetch(`${server.url}/assets/app-3f2a.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('console.log(1)');
    const css = await fetch(`${server.url}/assets/app-3f2a.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const font = await fetch(`${server.url}/assets/fonts/inter.woff2`);
    expect(font.headers.get('content-type')).toBe('font/woff2');
  });

  it('refuses paths that climb out of the assets directory', async () => {
    for (const path of [
      '/assets/../secret.txt',
      '/assets/../../outside.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/..%5csecret.txt',
      '/assets/%252e%252e/secret.txt',
      '/assets/fonts/../../secret.txt',
      '/assets/.hidden',
      '/assets/',
    ]) {
      const response = await rawGet(server.url, path);
      expect(response.body, path).not.toContain('inside the build dir');
      expect(response.body, path).not.toContain('OUTSIDE-THE-BUILD');
      expect([400, 404], path).toContain(response.status);
      expect(JSON.parse(response.body).error.code, path).toMatch(/^(NOT_FOUND|BAD_REQUEST)$/);
    }
  });

  it('answers a missing asset and unknown API paths with 404 errors, not the console', async () => {
    const missing = await fetch(`${server.url}/assets/nope-1234.js`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('NOT_FOUND');
    const api = await fetch(`${server.url}/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
    const other = await fetch(`${server.url}/not-a-console-page`);
    expect(other.status).toBe(404);
  });

  it('says how to build the console when it is not built', async () => {
    const response = await fetch(`${bare.url}/sessions`);
    expect(response.status).toBe(404);
    const body = await response.json();
    expect(body.error.code).toBe('NOT_FOUND');
    expect(body.error.message).toContain('npm run build');
  });
});
