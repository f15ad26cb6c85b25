/**
 * Errors a store may throw that callers can act on. A networked store that
 * cannot reach its database throws `StoreUnavailableError`; being an
 * `AppError` with code `STORE_UNAVAILABLE`, the app's error handler answers it
 * with 503 and the usual `{ error: { code, message } }` body, so clients retry
 * instead of treating the request as rejected. A write that fails this way was
 * rolled back, unless the connection broke while its commit was in flight.
 */
import { AppError } from '../errors.js';

export class StoreUnavailableError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', message);
    this.name = 'StoreUnavailableError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * A read reached positions the history retention sweeper deleted (see
 * `Store.trimHistory`); readers answer it with 410 `HISTORY_TRIMMED`.
 */
export class HistoryTrimmedError extends AppError {
  constructor(readonly position: number) {
    super('HISTORY_TRIMMED', 'the requested offset lies before the retained history');
    this.name = 'HistoryTrimmedError';
  }
}
