/**
 * The servers under test. Each target is started in its own child process by
 * `start({ dataDir })`, which resolves with `{ url, stop(), output() }`.
 * `baseline` targets are what the others are compared with in the ratio
 * columns. To add a target, append an entry here; `optional` targets run only when
 * named in BENCH_TARGETS (or, for PostgreSQL, when BENCH_POSTGRES_URL is set).
 */
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './lib/server-process.mjs';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const TETHER_CLI = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const REFERENCE_LAUNCHER = fileURLToPath(new URL('./reference-server.mjs', import.meta.url));

// The benchmark clients send no credentials (the reference server has none), so tether runs
// with auth off on loopback; the cost of checking a key is measured in bench/README.md.
function tether(serveArgs, nodeArgs) {
  return startServerProcess({
    cwd: REPO_ROOT,
    args: [...nodeArgs, TETHER_CLI, 'serve', '--port', '0', '--log-level', 'warn', '--insecure-no-auth', ...serveArgs],
  });
}

function reference(launcherArgs) {
  return startServerProcess({ cwd: REPO_ROOT, args: [REFERENCE_LAUNCHER, '--port', '0', ...launcherArgs] });
}

/** Every known target, in the order they run and appear in the table. */
export function allTargets(config) {
  const nodeArgs = config.tetherNodeArgs;
  return [
    {
      id: 'tether-sqlite',
      label: 'tether (sqlite, fsync)',
      short: 'tether',
      start: ({ dataDir }) => tether(['--data-dir', dataDir, '--durability', 'fsync'], nodeArgs),
    },
    {
      id: 'tether-sqlite-relaxed',
      label: 'tether (sqlite, relaxed)',
      short: 'relaxed',
      optional: true,
      start: ({ dataDir }) => tether(['--data-dir', dataDir, '--durability', 'relaxed'], nodeArgs),
    },
    {
      id: 'tether-postgres',
      label: 'tether (postgres)',
      short: 'pg',
      optional: !config.postgresUrl,
      // Two replicas on one database: figures run against the first; the
      // cross-replica scenario writes to the first and reads from the second.
      start: async ({ dataDir }) => {
        if (!config.postgresUrl) throw new Error('BENCH_POSTGRES_URL is not set');
        const args = ['--data-dir', dataDir, '--postgres', config.postgresUrl];
        const first = await tether(args, nodeArgs);
        let second;
        try {
          second = await tether(args, nodeArgs);
        } catch (error) {
          await first.stop();
          throw error;
        }
        return {
          ...first,
          secondUrl: second.url,
          pids: [first.pid, second.pid],
          async stop() {
            const [code] = await Promise.all([first.stop(), second.stop()]);
            return code;
          },
        };
      },
    },
    {
      id: 'reference-memory',
      label: 'reference (in-memory)',
      short: 'ref mem',
      baseline: true,
      start: () => reference([]),
    },
    {
      id: 'reference-file',
      label: 'reference (file-backed)',
      short: 'ref file',
      baseline: true,
      start: ({ dataDir }) => reference(['--data-dir', dataDir]),
    },
  ];
}

export function selectTargets(config) {
  const targets = allTargets(config);
  if (!config.targets) return targets.filter((t) => !t.optional);
  const unknown = config.targets.filter((id) => !targets.some((t) => t.id === id));
  if (unknown.length) throw new Error(`unknown BENCH_TARGETS: ${unknown.join(', ')} (known: ${targets.map((t) => t.id).join(', ')})`);
  return targets.filter((t) => config.targets.includes(t.id));
}
