/** `tether import <file|dir>` and `tether export <ref>`: transcripts in and out as JSONL. */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isTetherError, type ImportResult } from '@tether/client';
import { describeFailure, exitCodeFor } from '../failures.js';
import { expectPositionals, parseCommand } from '../connection.js';
import { jsonLine, type Output } from '../output.js';
import { ExitCode, UsageError } from '../usage.js';

const TRANSCRIPT_FILE = /\.(jsonl|ndjson)$/i;

/** Every transcript file under `dir`, sorted, so a re-run walks them in the same order. */
async function transcriptFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await transcriptFiles(path)));
    else if (entry.isFile() && TRANSCRIPT_FILE.test(entry.name)) found.push(path);
  }
  return found.sort();
}

async function inputFiles(target: string): Promise<string[]> {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new UsageError(`import: no such file or directory: ${target}`);
  }
  if (!info.isDirectory()) return [target];
  const files = await transcriptFiles(target);
  if (files.length === 0) throw new UsageError(`import: no .jsonl files under ${target}`);
  return files;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Imports files one request each and reports progress on stderr after every
 * file (a line per file, or one updating line on a terminal), so a long
 * import shows where it is while stdout stays clean for the summary.
 */
export async function importCommand(argv: string[], output: Output, tty = false): Promise<number> {
  const { flags, positionals, client, json } = parseCommand(argv, { partial: { type: 'boolean' } });
  const [target] = expectPositionals(positionals, ['file|dir'], 'import');
  const files = await inputFiles(target!);
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const started = Date.now();
  let doneBytes = 0;
  let sessions = 0;
  let created = 0;
  let failedFiles = 0;
  let lineErrors = 0;
  let worst: number = ExitCode.ok;
  for (const [index, file] of files.entries()) {
    const name = files.length === 1 ? file : relative(target!, file);
    let result: ImportResult | null = null;
    let failure: string | null = null;
    try {
      result = await client.importTranscript(await readFile(file, 'utf8'), { partial: flags.boolean('partial') });
    } catch (error) {
      // An unreachable or failing server will fail every later file too: stop at once.
      if (isTetherError(error) && (error.code === 'NETWORK_ERROR' || error.status >= 500 || error.status === 401 || error.status === 403)) throw error;
      failure = describeFailure(error);
      failedFiles++;
      worst = Math.max(worst, exitCodeFor(error));
    }
    doneBytes += sizes[index]!;
    if (result) {
      sessions += result.sessions.length;
      created += result.sessions.filter((s) => s.created).length;
      lineErrors += result.errors.length;
      if (json) output.out(jsonLine({ file, ...result }));
    } else if (json) {
      output.out(jsonLine({ file, error: failure }));
    }
    const percent = totalBytes === 0 ? 100 : Math.round((doneBytes / totalBytes) * 100);
    const rate = megabytes((doneBytes / Math.max(1, Date.now() - started)) * 1000);
    const what = result
      ? `${result.sessions.length} session${result.sessions.length === 1 ? '' : 's'}${result.errors.length ? `, ${result.errors.length} bad lines` : ''}`
      : `failed: ${failure}`;
    const line = `[${index + 1}/${files.length}] ${percent}% ${megabytes(doneBytes)}/${megabytes(totalBytes)} (${rate}/s) ${name}: ${what}`;
    if (tty && result) process.stderr.write(`\r\u001b[2K${line}`);
    else output.err(tty ? `\r\u001b[2K${line}` : line);
    for (const problem of result?.errors ?? []) output.err(`  ${name}:${problem.line}: ${problem.message}`);
  }
  if (tty) process.stderr.write('\n');
  const summary = `imported ${sessions} session${sessions === 1 ? '' : 's'} (${created} new) from ${files.length - failedFiles}/${files.length} files`;
  const problems = lineErrors ? `; ${lineErrors} lines skipped` : '';
  if (json) output.err(summary + problems);
  else output.out(summary + problems);
  if (worst !== ExitCode.ok) return worst;
  return lineErrors ? ExitCode.failure : ExitCode.ok;
}

export async function exportCommand(argv: string[], output: Output): Promise<void> {
  const { flags, positionals, client } = parseCommand(argv, { format: { type: 'string' }, output: { type: 'string', short: 'o' } });
  const [ref] = expectPositionals(positionals, ['ref'], 'export');
  const format = flags.string('format') ?? 'jsonl';
  if (format !== 'json' && format !== 'jsonl') throw new UsageError('--format must be json or jsonl');
  const text = format === 'jsonl' ? await client.exportTranscript(ref!, { format }) : JSON.stringify(await client.exportTranscript(ref!), null, 2) + '\n';
  const file = flags.string('output');
  if (file) {
    await writeFile(file, text);
    output.err(`wrote ${file}`);
  } else {
    output.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
}
