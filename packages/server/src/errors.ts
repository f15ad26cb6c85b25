import type { ErrorCode } from '@tether/protocol';

/**
 * An error with a stable code from the protocol's table. Services and routes
 * throw it; the app's error handler answers `{ error: { code, message, details? } }`
 * with the code's status.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
