#!/usr/bin/env node
import { serve } from './serve.js';
import { ExitCode, USAGE, UsageError } from './usage.js';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`tether: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(ExitCode.usage);
  }
  process.stderr.write(`tether: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(ExitCode.failure);
});
