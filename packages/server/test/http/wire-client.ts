/**
 * A client that writes raw bytes on one TCP connection and reads HTTP/1.1
 * responses back in order, so tests control exactly what goes on the wire:
 * pipelining, split writes, malformed heads.
 */
import { connect, type Socket } from 'node:net';

export interface WireResponse {
  status: number;
  /** Header names lower-cased; values as sent (repeated names joined with ", "). */
  headers: Record<string, string>;
  body: Buffer;
}

export class WireClient {
  private buffered = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(url: string): Promise<WireClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Half-closes the connection: no more requests. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private more(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Reads the next response; `forHead` for the answer to a HEAD (no body). Rejects after `ms` without one. */
  async read({ forHead = false, ms = 5000 } = {}): Promise<WireResponse> {
    const deadline = Date.now() + ms;
    for (;;) {
      const parsed = parseResponse(this.buffered, forHead);
      if (parsed) {
        this.buffered = this.buffered.subarray(parsed.length);
        return parsed.response;
      }
      const unread = JSON.stringify(this.buffered.toString('latin1'));
      if (this.closed) throw new Error(`connection closed; unread: ${unread}`);
      if (Date.now() > deadline) throw new Error(`no response within ${ms} ms; unread: ${unread}`);
      await Promise.race([this.more(), new Promise((resolve) => setTimeout(resolve, 20))]);
    }
  }

  /** Resolves once the server has closed the connection; rejects after `ms`. */
  async waitClosed(ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await Promise.race([this.more(), new Promise((resolve) => setTimeout(resolve, 20))]);
    }
  }
}

function parseResponse(buf: Buffer, forHead: boolean): { response: WireResponse; length: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine, ...lines] = buf.toString('latin1', 0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let at = headEnd + 4;
  if (forHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: Buffer.alloc(0) }, length: at };
  }
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const { chunks, end } = readChunks(buf, at);
    return end === null ? null : { response: { status, headers, body: Buffer.concat(chunks) }, length: end };
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < at + length) return null;
  return { response: { status, headers, body: Buffer.from(buf.subarray(at, at + length)) }, length: at + length };
}

/**
 * The chunks of a chunked body that starts at `from`, as far as they have
 * arrived whole; `end` is the position just past the body once its last
 * (empty) chunk has arrived, else null.
 */
export function readChunks(buf: Buffer, from: number): { chunks: Buffer[]; end: number | null } {
  const chunks: Buffer[] = [];
  for (let at = from; ; ) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return { chunks, end: null };
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (buf.length < lineEnd + 2 + size + 2) return { chunks, end: null };
    if (size === 0) return { chunks, end: lineEnd + 4 };
    chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The bytes of one request; `Content-Length` is added when there is a body and no length or encoding was given. */
export function requestBytes(method: string, path: string, headers: Record<string, string>, body = ''): Buffer {
  const fields = { host: '127.0.0.1', ...headers };
  const named = Object.keys(fields).map((name) => name.toLowerCase());
  if (body !== '' && !named.includes('content-length') && !named.includes('transfer-encoding')) {
    (fields as Record<string, string>)['content-length'] = String(Buffer.byteLength(body));
  }
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(fields)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
}
