import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { access } from './access-rules.js';
import { sendError } from './errors.js';

/**
 * Serves the built web console (packages/console) at `/`. The console's own
 * paths answer index.html (it routes in the browser); hashed files under
 * `/assets/` are cached for a year, index.html never without revalidating.
 * These files are the same for everyone and hold no data: a browser loads
 * them before anyone has signed in, so they must not require a credential.
 */
export interface ConsoleOptions {
  /** The console's build directory, or null when it is not built. */
  dir: string | null;
}

/** The console's client-side routes: each answers index.html. */
export const CONSOLE_PAGES = ['/', '/sessions', '/sessions/:id', '/inbox', '/sign-in'] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

// The console loads only its own files and talks only to this origin.
const CONSOLE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const tags = ['console'];

const html = { 200: { description: 'the console', content: { 'text/html': { schema: { type: 'string' } } } } } as const;

/** A file name under assets/: plain segments only, so nothing can climb out of the directory. */
const ASSET_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function readIndex(dir: string | null): Buffer | null {
  if (!dir) return null;
  try {
    return readFileSync(join(dir, 'index.html'));
  } catch {
    return null;
  }
}

export async function consoleRoutes(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const index = readIndex(options.dir);
  const assetsDir = options.dir ? resolve(options.dir, 'assets') : null;

  const sendIndex = (reply: FastifyReply) => {
    if (!index) return sendError(reply, 'NOT_FOUND', 'the web console is not built: run `npm run build`');
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(index);
  };

  for (const url of CONSOLE_PAGES) {
    app.get(url, { config: { access: access.public() }, schema: { tags, summary: 'The web console (answers its index.html)', response: html } }, async (_request, reply) => sendIndex(reply));
  }

  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    {
      config: { access: access.public() },
      schema: {
        tags,
        summary: "The console's built, content-hashed files",
        params: Type.Object({ '*': Type.String() }),
        response: {
          200: {
            description: 'the file, with its content type',
            content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'application/octet-stream': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const name = request.params['*'];
      if (!assetsDir || !ASSET_PATH.test(name)) return sendError(reply, 'NOT_FOUND', `no console file ${name}`);
      const path = resolve(assetsDir, name);
      if (!path.startsWith(assetsDir + sep)) return sendError(reply, 'NOT_FOUND', `no console file ${name}`);
      let body: Buffer;
      try {
        body = await readFile(path);
      } catch {
        return sendError(reply, 'NOT_FOUND', `no console file ${name}`);
      }
      return reply
        .header('content-type', CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(body);
    },
  );
}
