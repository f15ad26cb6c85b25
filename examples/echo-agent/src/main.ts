#!/usr/bin/env node
/**
 * Runs the echo agent against a Tether server:
 *   node examples/echo-agent/dist/main.js --url http://127.0.0.1:4437 [--agent echo] [--delay-ms 80]
 * The credential: --api-key, else TETHER_API_KEY, else the `admin-key` file the
 * server wrote to its data directory on first start (--data-dir, default ./.tether).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAgent, type RunnerEvent } from '@tether/client';
import { echoAgent } from './echo.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:4437' },
    'api-key': { type: 'string' },
    'data-dir': { type: 'string', default: './.tether' },
    agent: { type: 'string', multiple: true },
    'delay-ms': { type: 'string', default: '80' },
    'lease-ms': { type: 'string' },
  },
});

function log(event: RunnerEvent): void {
  const line = (text: string): void => void process.stderr.write(`${new Date().toISOString()} ${text}\n`);
  switch (event.type) {
    case 'claimed':
      return line(`claimed turn ${event.claim.turn.id} of session ${event.claim.session.id}`);
    case 'finished':
      return line(`turn ${event.claim.turn.id} ${event.outcome}${event.error ? `: ${event.error}` : ''}`);
    case 'retry':
      return line(`retrying ${event.operation}: ${event.error.code} ${event.error.message}`);
    case 'error':
      return line(`error: ${event.error instanceof Error ? event.error.message : String(event.error)}`);
  }
}

function apiKey(): string | undefined {
  const given = values['api-key'] ?? process.env.TETHER_API_KEY;
  if (given) return given;
  try {
    return readFileSync(join(values['data-dir']!, 'admin-key'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

process.stdout.write(`echo agent working for ${values.url}${values.agent ? ` (agents: ${values.agent.join(', ')})` : ''}\n`);
runAgent({
  url: values.url!,
  apiKey: apiKey(),
  agents: values.agent,
  runnerId: `echo-agent-${process.pid}`,
  leaseMs: values['lease-ms'] ? Number(values['lease-ms']) : undefined,
  handler: echoAgent({ delayMs: Number(values['delay-ms']) }),
  signal: stop.signal,
  onEvent: log,
}).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`echo agent stopped: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
