export { formatOffset, parseOffset, START_OFFSET_SENTINEL, NOW_OFFSET_SENTINEL } from './offsets.js';
export { Header, EXPOSED_HEADERS, ALLOWED_REQUEST_HEADERS } from './headers.js';
export { ERROR_CODES, statusOf, type ErrorCode, type ErrorBody } from './errors.js';
