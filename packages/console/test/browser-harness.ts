/**
 * What the console's browser tests share: a real listening server serving the
 * built console, the echo agent working for it in this process, and Debian's
 * Chromium driven by playwright-core.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { consoleDir } from '@tether/console';
import { runAgent, type AgentHandler } from '@tether/client';
import { echoAgent } from '@tether/example-echo-agent';
import { startServer, type RunningServer } from '@tether/server';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(fileURLToPath(new URL('../../../test-artifacts/console/', import.meta.url)));

export interface Harness {
  server: RunningServer;
  dataDir: string;
  /** The admin key a server with auth wrote on first start; pages and API calls use it. */
  adminKey: string | undefined;
  browser: Browser;
  /** Starts an echo agent serving `agent` sessions, pausing `delayMs` between words. */
  agent(agent: string, delayMs: number): void;
  /** Starts a runner serving `agent` sessions with `handler`. */
  runner(agent: string, handler: AgentHandler): void;
  /** A page in a fresh browser context, signed in with the admin key when there is one (`signedIn: false` to start signed out). */
  page(options?: { signedIn?: boolean }): Promise<Page>;
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  screenshot(page: Page, name: string): Promise<void>;
  /** Errors the pages threw: a test ends by expecting none. */
  pageErrors: string[];
  stop(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(join(consoleDir, 'index.html'))) throw new Error('the console is not built: run `npm run build` first');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-console-browser-'));
  const server = await startServer({ port: 0, dataDir, logLevel: 'silent' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const keyFile = join(dataDir, 'admin-key');
  const adminKey = existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined;
  const stopAgents = new AbortController();
  const agents: Promise<void>[] = [];
  const pageErrors: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(server.url + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(adminKey ? { authorization: `Bearer ${adminKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  };

  return {
    server,
    dataDir,
    adminKey,
    browser,
    pageErrors,
    api,
    agent(agent, delayMs) {
      this.runner(agent, echoAgent({ delayMs }));
    },
    runner(agent, handler) {
      agents.push(runAgent({ url: server.url, agents: [agent], runnerId: `browser-test-${agent}`, apiKey: adminKey, handler, signal: stopAgents.signal, waitMs: 5_000 }));
    },
    async page(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.url });
      if (adminKey && options.signedIn !== false) {
        await context.addInitScript((key) => localStorage.setItem('tether.credential', key), adminKey);
      }
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
    },
    async stop() {
      stopAgents.abort();
      await Promise.allSettled(agents);
      await browser.close();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The finished assistant messages an `out` channel holds, folded from its events by messageId. */
export async function writtenMessages(harness: Harness, sessionId: string): Promise<string[]> {
  const events = (await harness.api('GET', `/v1/stream/sessions/${sessionId}/out?offset=-1`)) as Array<Record<string, any>>;
  const texts = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'message.started') texts.set(event.messageId, '');
    if (event.type === 'message.delta') texts.set(event.messageId, (texts.get(event.messageId) ?? '') + event.text);
  }
  return [...texts.values()];
}
