#!/usr/bin/env node
/**
 * Starts the reference Durable Streams server (@durable-streams/server) for
 * the benchmark. In-memory by default; `--data-dir DIR` selects its
 * file-backed store (log files + LMDB, fdatasync on every append).
 *
 *   node bench/reference-server.mjs [--port 0] [--host 127.0.0.1] [--data-dir DIR]
 *
 * Prints one stdout line with the base URL, like `tether serve`.
 */
import { parseArgs } from 'node:util';
import { DurableStreamTestServer } from '@durable-streams/server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
  },
});

const server = new DurableStreamTestServer({
  port: Number(values.port),
  host: values.host,
  dataDir: values['data-dir'],
  // Same long-poll wait as tether's default, so idle readers behave alike.
  longPollTimeout: 20_000,
});
const url = await server.start();
process.stdout.write(`reference listening on ${url} (store: ${values['data-dir'] ? 'file' : 'memory'})\n`);

const shutdown = () => {
  const force = setTimeout(() => process.exit(0), 5_000);
  force.unref();
  server.stop().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`reference server: stop failed: ${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
