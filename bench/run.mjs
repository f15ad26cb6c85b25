#!/usr/bin/env node
/**
 * Benchmarks tether against the reference Durable Streams server in one run.
 * Each target runs in its own child process on a fresh data directory; the
 * load generator is this process. Rounds alternate between targets so that
 * background noise is shared rather than pinned on one of them. See README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GOALS } from './goals.mjs';
import { readConfig } from './lib/config.mjs';
import { cpuBusyFraction, loadAverage, machineInfo, waitForQuiet, watchOtherCpu } from './lib/machine.mjs';
import { evaluateGoals, goalsReport, resultsTable } from './lib/report.mjs';
import { SCENARIOS } from './scenarios.mjs';
import { selectTargets } from './targets.mjs';

const RESULTS_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Share of all CPUs in use (by anything) above which the figures are flagged as noisy. */
const QUIET_THRESHOLD = 0.2;
/** Share of the CPUs used by other processes during a measurement worth pointing out. */
const NOISE_NOTE = 0.1;

const log = (line = '') => process.stdout.write(`${line}\n`);

function gitRevision() {
  const git = (...args) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return git('status', '--porcelain') ? `${git('rev-parse', '--short', 'HEAD')}+dirty` : git('rev-parse', '--short', 'HEAD');
  } catch {
    return null;
  }
}

function redactPassword(url) {
  if (!url) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

async function startTargets(targets, config) {
  const live = [];
  const results = [];
  for (const target of targets) {
    const result = { id: target.id, label: target.label, short: target.short, baseline: Boolean(target.baseline), status: 'ok', figures: {}, errors: {} };
    results.push(result);
    const dataDir = await mkdtemp(join(config.dataRoot ?? os.tmpdir(), `tether-bench-${target.id}-`));
    try {
      const server = await target.start({ dataDir });
      log(`  started ${target.label.padEnd(26)} ${server.url}  (pid ${server.pid})`);
      live.push({ target, result, server, dataDir, runs: new Map() });
    } catch (error) {
      result.status = 'skipped';
      // The first lines say why; a child's stack trace adds nothing here.
      result.skipReason = error.message.split('\n').filter((line) => !/^\s+at /.test(line)).slice(0, 6).join('\n');
      log(`  skipped ${target.label}: could not start: ${result.skipReason.replaceAll('\n', '\n    ')}`);
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return { live, results };
}

async function stopTargets(live) {
  for (const { result, server, dataDir } of live) {
    const exit = await server.stop();
    if (result.status === 'errors') result.serverOutput = server.output().slice(-4000);
    if (exit !== 0 && exit !== 'SIGTERM') log(`  note: ${result.label} exited with ${exit}`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function runRounds(live, config) {
  const width = Math.max(...live.map((t) => t.target.label.length));
  for (let round = 1; round <= config.rounds; round++) {
    log(`\nround ${round}/${config.rounds}`);
    // Odd rounds run the targets in list order, even rounds in reverse.
    const order = round % 2 ? live : [...live].reverse();
    for (const scenario of SCENARIOS) {
      if (scenario.once && round > 1) continue;
      log(`  ${scenario.title(config)}`);
      for (const entry of order) {
        if (entry.result.errors[scenario.key]) continue;
        if (scenario.applies && !scenario.applies(entry.server)) continue;
        try {
          const otherCpu = watchOtherCpu(live.flatMap((t) => t.server.pids ?? [t.server.pid]));
          const run = await scenario.run(entry.server.url, config, entry.server);
          run.otherCpu = otherCpu();
          if (!entry.runs.has(scenario.key)) entry.runs.set(scenario.key, []);
          entry.runs.get(scenario.key).push(run);
          const noise = run.otherCpu >= NOISE_NOTE ? `  [other processes used ${Math.round(run.otherCpu * 100)}% of the CPUs]` : '';
          log(`    ${entry.target.label.padEnd(width)}  ${scenario.summary(run)}${noise}`);
        } catch (error) {
          entry.result.status = 'errors';
          entry.result.errors[scenario.key] = error.message;
          log(`    ${entry.target.label.padEnd(width)}  FAILED: ${error.message}`);
        }
      }
    }
  }
  for (const { result, runs } of live) {
    for (const scenario of SCENARIOS) {
      if (runs.has(scenario.key) && !result.errors[scenario.key]) result.figures[scenario.key] = scenario.combine(runs.get(scenario.key));
    }
  }
}

async function main() {
  const config = readConfig();
  const targets = selectTargets(config);
  const started = Date.now();
  const machine = machineInfo();
  log(`tether benchmark: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}`);
  log(
    `${config.rounds} round(s); per round: ${config.seconds} s per append phase (+${config.warmupSeconds} s warm-up) at concurrency ${config.concurrency}, ` +
      `${config.latencySamples} latency probes per mode every ${config.latencyIntervalMs} ms; ` +
      `~${config.messageBytes}-byte JSON messages`,
  );
  const quiet = config.waitForQuietSeconds > 0;
  machine.cpuBusyAtStart = quiet
    ? await waitForQuiet(config.waitForQuietSeconds, QUIET_THRESHOLD, (busy) => log(`waiting for a quiet machine (CPUs ${Math.round(busy * 100)}% busy)`))
    : await cpuBusyFraction();
  machine.loadAverageAtStart = loadAverage();
  if (machine.cpuBusyAtStart >= QUIET_THRESHOLD) {
    log(`warning: other processes keep the CPUs ${Math.round(machine.cpuBusyAtStart * 100)}% busy; figures will be noisy (BENCH_WAIT_FOR_QUIET=120 waits for quiet)`);
  }
  if (!config.postgresUrl) log('(set BENCH_POSTGRES_URL to add tether on PostgreSQL)');
  log();

  const { live, results } = await startTargets(targets, config);
  try {
    await runRounds(live, config);
  } finally {
    await stopTargets(live);
  }

  const verdicts = evaluateGoals(GOALS, results, config.concurrency);
  log('\nResults  (the "vs" columns say how many times better tether is: its rate ÷ the other\'s, or the other\'s latency ÷ its own)\n');
  log(resultsTable(results, config.concurrency));
  log('\nGoals for tether (sqlite, fsync)\n');
  log(goalsReport(verdicts));
  for (const t of results.filter((r) => r.status === 'skipped')) log(`\nskipped ${t.label}: ${t.skipReason.split('\n')[0]}`);
  for (const t of results.filter((r) => r.status === 'errors')) log(`\n${t.label} failed: ${Object.entries(t.errors).map(([k, v]) => `${k}: ${v}`).join('; ')}`);

  const report = {
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    revision: gitRevision(),
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    config: { ...config, postgresUrl: redactPassword(config.postgresUrl) },
    targets: results,
    goals: verdicts.map(({ text, subject, figure, verdict, actual, ratio, detail }) => ({ text, subject, figure, verdict, actual, ratio, detail })),
  };
  await mkdir(join(RESULTS_FILE, '..'), { recursive: true });
  await writeFile(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nwrote bench/results/latest.json (${Math.round((Date.now() - started) / 1000)} s)`);

  const broken = results.some((r) => r.status === 'errors');
  const failed = verdicts.some((v) => v.verdict === 'FAIL');
  if (broken || (failed && process.env.BENCH_STRICT === '1')) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`);
  process.exit(1);
});
