/**
 * Turns per-target results into the printed table and the goal verdicts.
 * Ratio columns compare every non-baseline target with every baseline.
 */
import { FIGURES, figureValue, timesBetter } from '../figures.mjs';

const fill = (text, n) => String(text).replaceAll('{N}', String(n));

function formatNumber(value, unit) {
  if (value === null || value === undefined) return '—';
  if (unit === 'ms') return value < 10 ? value.toFixed(2) : value.toFixed(1);
  if (unit === '%') return `${Math.round(value)}`;
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(1);
}

const formatRatio = (r) => (r === null ? '—' : `${r >= 100 ? Math.round(r) : r.toFixed(r >= 10 ? 1 : 2)}×`);

function renderTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function resultsTable(results, concurrency) {
  const ran = results.filter((t) => t.status !== 'skipped');
  const baselines = ran.filter((t) => t.baseline);
  const subjects = ran.filter((t) => !t.baseline);
  const pairs = subjects.flatMap((s) => baselines.map((b) => ({ s, b })));
  const header = [
    'figure',
    'unit',
    ...ran.map((t) => t.label),
    ...pairs.map(({ s, b }) => (subjects.length > 1 ? `${s.short} vs ${b.short}` : `vs ${b.short}`)),
  ];
  const rows = FIGURES.map((figure) => {
    const values = new Map(ran.map((t) => [t.id, figureValue(figure.key, t.figures)]));
    return [
      fill(figure.label, concurrency),
      figure.unit,
      ...ran.map((t) => formatNumber(values.get(t.id), figure.unit)),
      ...pairs.map(({ s, b }) => formatRatio(timesBetter(figure.key, values.get(s.id), values.get(b.id)))),
    ];
  });
  return renderTable(header, rows);
}

export function evaluateGoals(goals, results, concurrency) {
  const byId = new Map(results.map((t) => [t.id, t]));
  return goals.map((goal) => {
    const text = fill(goal.text, concurrency);
    const subject = byId.get(goal.subject);
    if (!subject || subject.status === 'skipped') return { ...goal, text, verdict: 'SKIP', detail: `${goal.subject} did not run` };
    const actual = figureValue(goal.figure, subject.figures);
    if (actual === null) return { ...goal, text, verdict: 'FAIL', actual, detail: 'no measurement' };
    if (goal.atLeast !== undefined) {
      return { ...goal, text, actual, verdict: actual >= goal.atLeast ? 'PASS' : 'FAIL', detail: `${formatNumber(actual)} (goal ≥ ${formatNumber(goal.atLeast)})` };
    }
    if (goal.below !== undefined) {
      return { ...goal, text, actual, verdict: actual < goal.below ? 'PASS' : 'FAIL', detail: `${actual} (goal < ${goal.below})` };
    }
    const other = byId.get(goal.versus);
    const baseline = other && other.status !== 'skipped' ? figureValue(goal.figure, other.figures) : null;
    if (baseline === null) return { ...goal, text, actual, verdict: 'SKIP', detail: `no ${goal.versus} measurement` };
    const ratio = timesBetter(goal.figure, actual, baseline);
    return {
      ...goal,
      text,
      actual,
      ratio,
      verdict: ratio >= goal.timesBetter ? 'PASS' : 'FAIL',
      detail: `${formatRatio(ratio)} (${formatNumber(actual)} vs ${formatNumber(baseline)}; goal ≥ ${goal.timesBetter}×)`,
    };
  });
}

export function goalsReport(verdicts) {
  const width = Math.max(...verdicts.map((v) => v.text.length));
  return verdicts.map((v) => `${v.verdict.padEnd(4)}  ${v.text.padEnd(width)}  ${v.detail}`).join('\n');
}
