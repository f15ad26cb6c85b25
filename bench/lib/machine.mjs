/**
 * What the figures depend on besides the code: the machine, and how busy it
 * was. The bench shares its CPUs with the servers it measures, so anything
 * else running at the same time shows up directly in the numbers.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const round2 = (x) => Number(x.toFixed(2));

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGiB: round2(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

function cpuTimes() {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    busy += all - times.idle;
    total += all;
  }
  return { busy, total };
}

/** Fraction of all CPUs busy (with anything) over the next `ms`. */
export async function cpuBusyFraction(ms = 1000) {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? round2((after.busy - before.busy) / total) : 0;
}

/**
 * Waits, up to `maxSeconds`, for a second in which less than `threshold` of
 * the CPUs is busy. Returns the last busy fraction seen.
 */
export async function waitForQuiet(maxSeconds, threshold, onWait) {
  const deadline = Date.now() + maxSeconds * 1000;
  let busy = await cpuBusyFraction();
  while (busy >= threshold && Date.now() < deadline) {
    onWait?.(busy);
    busy = await cpuBusyFraction();
  }
  return busy;
}

export const loadAverage = () => os.loadavg().map(round2);

/** CPU milliseconds a process has used, from /proc (Linux); null elsewhere. */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/**
 * Starts counting CPU time; the returned function gives the milliseconds the
 * processes `pids` (null when /proc cannot tell) and this process have used
 * since.
 */
export function cpuMeter(pids) {
  const start = { pids: pids.map(processCpuMs), self: process.cpuUsage() };
  return () => {
    const now = pids.map(processCpuMs);
    const known = now.every((ms, i) => ms !== null && start.pids[i] !== null);
    const self = process.cpuUsage(start.self);
    return {
      pidsMs: known ? now.reduce((sum, ms, i) => sum + ms - start.pids[i], 0) : null,
      selfMs: (self.user + self.system) / 1000,
    };
  };
}

/**
 * Starts watching CPU use; the returned function reports the share of all
 * CPUs that processes other than this one and `pids` used meanwhile.
 */
export function watchOtherCpu(pids) {
  const start = { machine: cpuTimes(), self: process.cpuUsage(), pids: pids.map(processCpuMs), at: Date.now() };
  return () => {
    const machine = cpuTimes();
    const self = process.cpuUsage(start.self);
    const ours = (self.user + self.system) / 1000 + pids.reduce((sum, pid, i) => sum + ((processCpuMs(pid) ?? 0) - (start.pids[i] ?? 0)), 0);
    const capacity = (Date.now() - start.at) * os.cpus().length;
    const other = machine.busy - start.machine.busy - ours;
    return capacity > 0 ? round2(Math.max(0, other) / capacity) : 0;
  };
}
