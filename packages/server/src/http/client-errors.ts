/**
 * Requests Node's HTTP parser refuses before any route runs (a request line
 * that is not HTTP, bytes a URL may not hold, a request head over the size
 * limit) still get the one error shape, on a connection that is then closed.
 */
import type { Socket } from 'node:net';
import { ERROR_CODES, type ErrorCode } from '@tether/protocol';

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

export function clientErrorHandler(connectionError: Error, socket: Socket): void {
  const error = connectionError as Error & { code?: string; rawPacket?: unknown };
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['HEADERS_TOO_LARGE', 'the request line and headers are larger than the limit']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['REQUEST_TIMEOUT', 'the request did not arrive in time']
        : ['BAD_REQUEST', `malformed HTTP request (${error.code ?? 'parse error'})`];
  const status = ERROR_CODES[code];
  // A HEAD response has no body, even for a request we could not parse further.
  // The failing chunk need not hold the request line (a head split over several
  // packets), so the body goes only with a request line known not to be HEAD.
  const start = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.subarray(0, 8).toString('latin1') : '';
  const bodyAllowed = /^(GET|POST|PUT|PATCH|DELETE|OPTIONS) /.test(start);
  const body = bodyAllowed ? JSON.stringify({ error: { code, message } }) : '';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
