#!/usr/bin/env node
import { inboxCommand, respondCommand, sendCommand } from './commands/interact.js';
import { keysCommand } from './commands/keys.js';
import { searchCommand } from './commands/search.js';
import { sessionsCommand } from './commands/sessions.js';
import { tailCommand } from './commands/tail.js';
import { exportCommand, importCommand } from './commands/transfer.js';
import { isTetherError } from '@tether/client';
import { describeFailure, exitCodeFor } from './failures.js';
import { stdio } from './output.js';
import { serve } from './serve.js';
import { ExitCode, USAGE, UsageError } from './usage.js';

/** Runs one command; resolves with the exit code (`serve` keeps running and resolves at once). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && command !== 'serve' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(USAGE);
    return ExitCode.ok;
  }
  switch (command) {
    case 'serve':
      await serve(rest);
      return -1;
    case 'sessions':
      await sessionsCommand(rest, stdio);
      return ExitCode.ok;
    case 'tail': {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await tailCommand(rest, stdio, stop.signal);
      return ExitCode.ok;
    }
    case 'send':
      await sendCommand(rest, stdio);
      return ExitCode.ok;
    case 'respond':
      await respondCommand(rest, stdio);
      return ExitCode.ok;
    case 'inbox':
      await inboxCommand(rest, stdio);
      return ExitCode.ok;
    case 'search':
      await searchCommand(rest, stdio, process.stdout.isTTY === true);
      return ExitCode.ok;
    case 'import':
      return importCommand(rest, stdio, process.stderr.isTTY === true);
    case 'export':
      await exportCommand(rest, stdio);
      return ExitCode.ok;
    case 'keys':
      await keysCommand(rest, stdio);
      return ExitCode.ok;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return ExitCode.ok;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

// A reader that went away (`tether tail … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain before exiting: a piped reader must get every line.
    if (code >= 0) process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    const code = exitCodeFor(error);
    let message: string;
    if (error instanceof UsageError || (code === ExitCode.usage && !isTetherError(error))) {
      message = `tether: ${(error as Error).message}\n\nrun \`tether --help\` for usage\n`;
    } else if (isTetherError(error)) {
      message = `tether: ${describeFailure(error)}\n`;
    } else {
      message = `tether: ${(error as Error)?.stack ?? String(error)}\n`;
    }
    process.stderr.write(message, () => process.exit(code));
  },
);
