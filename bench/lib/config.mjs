/**
 * Benchmark settings, all overridable from the environment so a quick local
 * run and a full CI run use the same code.
 */

function number(env, name, fallback, { min = 0, integer = false } = {}) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

function list(env, name) {
  const raw = env[name];
  if (!raw) return null;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

export function readConfig(env = process.env) {
  return {
    /**
     * Scenarios (a) and (b) run this many times, alternating between targets,
     * and pool their measurements, so a noisy moment on a shared machine is
     * spread over all targets instead of landing on one.
     */
    rounds: number(env, 'BENCH_ROUNDS', 2, { min: 1, integer: true }),
    /** Measured duration of each append-throughput phase, per round. */
    seconds: number(env, 'BENCH_SECONDS', 5, { min: 0.5 }),
    /** Unmeasured load before each append-throughput phase. */
    warmupSeconds: number(env, 'BENCH_WARMUP_SECONDS', 1),
    concurrency: number(env, 'BENCH_CONCURRENCY', 64, { min: 1, integer: true }),
    messageBytes: number(env, 'BENCH_MESSAGE_BYTES', 100, { min: 40, integer: true }),
    /** Measured latency probes per mode, per round. */
    latencySamples: number(env, 'BENCH_LATENCY_SAMPLES', 500, { min: 10, integer: true }),
    /** Samples sent before the measured ones, to warm connections and JITs. */
    latencyWarmupSamples: number(env, 'BENCH_LATENCY_WARMUP', 50, { integer: true }),
    /** Gap between the starts of consecutive latency probes. */
    latencyIntervalMs: number(env, 'BENCH_LATENCY_INTERVAL_MS', 5, { min: 0 }),
    catchUpMessages: number(env, 'BENCH_CATCHUP_MESSAGES', 100_000, { min: 1, integer: true }),
    catchUpRounds: number(env, 'BENCH_CATCHUP_ROUNDS', 3, { min: 1, integer: true }),
    /** Messages per POST while filling the catch-up stream (JSON array flattening). */
    catchUpBatch: number(env, 'BENCH_CATCHUP_BATCH', 1000, { min: 1, integer: true }),
    /** Ids of the targets to run; null runs every default target. */
    targets: list(env, 'BENCH_TARGETS'),
    postgresUrl: env.BENCH_POSTGRES_URL || null,
    /** Wait up to this long at start for the CPUs to be quiet (0: don't wait). */
    waitForQuietSeconds: number(env, 'BENCH_WAIT_FOR_QUIET', 0),
    /** Parent folder for the servers' temporary data directories. */
    dataRoot: env.BENCH_DATA_DIR || null,
    /** Extra node flags for tether's process, e.g. `--cpu-prof`. */
    tetherNodeArgs: env.BENCH_TETHER_NODE_ARGS ? env.BENCH_TETHER_NODE_ARGS.split(' ').filter(Boolean) : [],
  };
}
