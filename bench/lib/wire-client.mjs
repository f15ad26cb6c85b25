/**
 * A lean HTTP/1.1 load generator: one keep-alive TCP connection per writer,
 * one request in flight on each, requests written as prepared bytes and
 * responses read by their status line and `Content-Length` (or chunked
 * framing). node:http's client spends about as much CPU per request as the
 * servers under test do, so with it the load generator, not the server,
 * set the append rate on a 2-core machine.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const HEAD_END = Buffer.from('\r\n\r\n');

export class WireConnection {
  static open(baseUrl) {
    const url = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
        socket.off('error', reject);
        resolve(new WireConnection(socket, url.host));
      });
      socket.once('error', reject);
    });
  }

  constructor(socket, host) {
    this.socket = socket;
    this.host = host;
    this.buffered = null;
    this.pending = null;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  /** The bytes of a request with a body, to be sent any number of times. */
  prepare(method, path, headers, body) {
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += `content-length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  }

  /** Sends prepared bytes; resolves with `{ status, body, receivedAt }`. */
  send(bytes) {
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  close() {
    this.socket.destroy();
  }

  fail(error) {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  onData(chunk) {
    this.buffered = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    const response = readResponse(this.buffered);
    if (response === null) return;
    this.buffered = response.rest.length === 0 ? null : response.rest;
    const pending = this.pending;
    this.pending = null;
    pending?.resolve({ status: response.status, body: response.body, receivedAt: performance.now() });
  }
}

/** One response from the start of `buf`, or null until it has all arrived. */
function readResponse(buf) {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return null;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  let at = headEnd + 4;
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    if (status < 200) return readResponse(buf.subarray(at));
    return { status, body: Buffer.alloc(0), rest: buf.subarray(at) };
  }
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  if (length) {
    const end = at + Number(length[1]);
    if (buf.length < end) return null;
    return { status, body: buf.subarray(at, end), rest: buf.subarray(end) };
  }
  if (!/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) throw new Error(`response without a length: ${head.split('\r\n')[0]}`);
  const parts = [];
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
    const next = lineEnd + 2 + size + 2;
    if (buf.length < next) return null;
    if (size === 0) return { status, body: Buffer.concat(parts), rest: buf.subarray(next) };
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = next;
  }
}
