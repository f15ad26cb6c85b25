import { ERROR_CODES, type ErrorCode } from '@tether/protocol';

/**
 * Codes the SDK raises itself, for failures that never reached the server or
 * that the server reports in-band (an interaction's answer). Kept apart from
 * the server's table so a client can still tell who decided.
 */
export const CLIENT_ERROR_CODES = [
  'NETWORK_ERROR',
  'ABORTED',
  'BAD_RESPONSE',
  'TURN_FINISHED',
  'INTERACTION_DENIED',
  'INTERACTION_CANCELLED',
  'INTERACTION_EXPIRED',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * Every error the SDK throws. `code` is the server's stable error code (or a
 * client code above); branch on it, never on `message`. `status` is the HTTP
 * status, 0 when there was no response.
 */
export class TetherError extends Error {
  override readonly name = 'TetherError';

  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly status = 0,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth trying again later: the request may not have reached a healthy server. */
  get retriable(): boolean {
    return this.code === 'NETWORK_ERROR' || this.status >= 500 || this.status === 429;
  }
}

export function isTetherError(error: unknown, code?: TetherError['code']): error is TetherError {
  return error instanceof TetherError && (code === undefined || error.code === code);
}

function isServerCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The generic code for a status, for answers that carry no error body (stream routes, proxies). */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 412) return 'PRECONDITION_FAILED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'STORE_UNAVAILABLE';
  if (status >= 500) return 'INTERNAL';
  return 'BAD_REQUEST';
}

/** Builds the error for a non-2xx response from its `{error: {code, message, details?}}` body. */
export async function errorFromResponse(response: Response): Promise<TetherError> {
  let body: unknown;
  try {
    const text = await response.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const code = isServerCode(error?.code) ? error.code : codeForStatus(response.status);
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
  return new TetherError(code, message, response.status, error?.details);
}

/** Wraps whatever `fetch` threw: an abort stays an abort, anything else is a network error. */
export function networkError(cause: unknown, signal?: AbortSignal): TetherError {
  if (signal?.aborted) return new TetherError('ABORTED', 'the request was aborted', 0, undefined, { cause: signal.reason });
  if (cause instanceof TetherError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TetherError('NETWORK_ERROR', `network error: ${message}`, 0, undefined, { cause });
}
