/**
 * The one table of error codes. Every non-stream route answers errors as
 * `{ error: { code, message, details? } }` with the status listed here;
 * `docs/errors.md` documents the same table and a test keeps the two in step.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  INVALID_OFFSET: 400,
  INVALID_HEADER: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  EMPTY_BODY: 400,
  PATH_TOO_LONG: 400,
  INVALID_PATH: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PRODUCER_FENCED: 403,
  NOT_FOUND: 404,
  STREAM_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  TURN_NOT_FOUND: 404,
  INTERACTION_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  STREAM_EXISTS: 409,
  STREAM_CLOSED: 409,
  CONTENT_TYPE_MISMATCH: 409,
  SEQUENCE_CONFLICT: 409,
  PRODUCER_SEQ_GAP: 409,
  SESSION_CLOSED: 409,
  SESSION_EXPIRED: 409,
  SESSION_BUSY: 409,
  SESSION_NOT_RUNNING: 409,
  LEASE_LOST: 409,
  INTERACTION_NOT_PENDING: 409,
  STREAM_GONE: 410,
  HISTORY_TRIMMED: 410,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  INVALID_EVENT: 400,
  INVALID_IMPORT: 400,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}
