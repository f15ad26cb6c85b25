import { TetherError } from '@tether/client';
import { ExitCode, UsageError } from './usage.js';

/**
 * The exit code for a failure, so scripts can branch without parsing text:
 * a mistake on the command line (or input the server rejected as malformed),
 * a missing thing, a conflict with the current state, a refused credential,
 * or a server that failed or could not be reached.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) return ExitCode.usage;
  if (!(error instanceof TetherError)) return ExitCode.failure;
  if (error.code === 'NETWORK_ERROR' || error.status >= 500) return ExitCode.server;
  if (error.status === 404) return ExitCode.notFound;
  if (error.status === 409 || error.status === 412) return ExitCode.conflict;
  if (error.status === 401 || error.status === 403) return ExitCode.unauthorized;
  if (error.status === 400 || error.status === 413) return ExitCode.usage;
  return ExitCode.failure;
}

export function describeFailure(error: unknown): string {
  if (error instanceof TetherError) {
    const details = error.details === undefined ? '' : ` ${JSON.stringify(error.details)}`;
    return `${error.code}: ${error.message}${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
