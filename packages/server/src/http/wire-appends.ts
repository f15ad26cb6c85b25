/**
 * Appends read straight off the socket. Node's HTTP server spends about as
 * much CPU on each small request (parser callbacks, request and response
 * objects, header bookkeeping) as an fsynced append costs altogether, so a
 * connection starts out here instead: while its requests are plain
 * `POST /v1/stream/...` appends with a `Content-Length` body, this module
 * reads them, has the append fast path answer them, and writes each answer
 * as one piece.
 *
 * It only ever takes requests it can read without doubt. The first request
 * that is anything else (another method or route, a query string, chunked
 * or `Expect`, a repeated header, HTTP/1.0, `Connection: close`, a body over
 * the limit, a head over the header limit, a byte the strict grammar does
 * not allow) hands the connection to Node's HTTP server with every byte not
 * yet answered put back, and Node and Fastify answer it and everything after
 * it exactly as they would have from the start. A connection is handed over
 * only between answers, so pipelined answers keep their order.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AppendFastPath, AppendReply, AppendRequest } from './append-fast-path.js';

export interface WireAppendsOptions {
  /** Node's limit for a request head; a longer one is Node's to refuse. */
  maxHeaderBytes: number;
  /** Bodies declared longer than this are Node's (and the route's 413) to answer. */
  maxMessageBytes: number;
  isClosing: () => boolean;
}

export interface WireAppends {
  /** Requests answered off the socket. */
  readonly answered: number;
  /** Connections given to Node's HTTP server. */
  readonly handedOver: number;
  /** Closes connections between requests; the rest close after their answer. For shutdown. */
  closeIdle(): void;
  /** Destroys every connection still held here. */
  closeAll(): void;
}

const START = Buffer.from('POST /v1/stream/', 'latin1');
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const VERSION = ' HTTP/1.1';
/** Headers whose presence means the request is not a plain one: Node handles them. */
const NOT_PLAIN = new Set(['transfer-encoding', 'expect', 'upgrade', 'te', 'trailer']);
/** Node's default limit on header fields. */
const MAX_FIELDS = 2000;

/** RFC 9110 token characters, by char code. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHAR[c.charCodeAt(0)] = 1;

type Parsed =
  | { kind: 'incomplete' }
  | { kind: 'other' }
  | { kind: 'append'; request: AppendRequest; bodyStart: number; bodyEnd: number };

const INCOMPLETE: Parsed = { kind: 'incomplete' };
const OTHER: Parsed = { kind: 'other' };

function isToken(text: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] === 0) return false;
  }
  return true;
}

/** Field-value characters: visible ASCII, space, tab and obs-text (0x80-0xff); no other control characters. */
function isFieldValue(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** A request target: visible ASCII only. */
function isTarget(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Reads one request from the start of `buf`: an append this path may take,
 * not enough bytes yet, or anything else (Node's).
 */
export function parseAppend(buf: Buffer, options: WireAppendsOptions, takes: AppendFastPath['takes']): Parsed {
  const prefix = Math.min(buf.length, START.length);
  if (buf.compare(START, 0, prefix, 0, prefix) !== 0) return OTHER;
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return buf.length > options.maxHeaderBytes ? OTHER : INCOMPLETE;
  if (headEnd + HEAD_END.length > options.maxHeaderBytes) return OTHER;
  const head = buf.toString('latin1', 0, headEnd);
  let lineEnd = head.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = head.length;
  // "POST " + target + " HTTP/1.1"; the prefix check above covered "POST /v1/stream/".
  const targetEnd = lineEnd - VERSION.length;
  if (targetEnd < START.length || head.slice(targetEnd, lineEnd) !== VERSION || !isTarget(head, 5, targetEnd)) return OTHER;
  const url = head.slice(5, targetEnd);
  const headers: IncomingHttpHeaders = Object.create(null) as IncomingHttpHeaders;
  let fields = 0;
  let at = lineEnd + 2;
  while (at < head.length) {
    if (++fields > MAX_FIELDS) return OTHER;
    let end = head.indexOf('\r\n', at);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', at);
    // A line without a colon, or starting with white space (a folded line), is not a plain field.
    if (colon < 0 || colon >= end || !isToken(head, at, colon)) return OTHER;
    let from = colon + 1;
    let to = end;
    while (from < to && (head.charCodeAt(from) === 0x20 || head.charCodeAt(from) === 0x09)) from++;
    while (to > from && (head.charCodeAt(to - 1) === 0x20 || head.charCodeAt(to - 1) === 0x09)) to--;
    if (!isFieldValue(head, from, to)) return OTHER;
    const name = head.slice(at, colon).toLowerCase();
    const value = head.slice(from, to);
    if (name in headers || NOT_PLAIN.has(name)) return OTHER;
    if (name === 'connection' && value.toLowerCase() !== 'keep-alive') return OTHER;
    headers[name] = value;
    at = end + 2;
  }
  if (headers.host === undefined) return OTHER;
  const declared = headers['content-length'];
  let length = 0;
  if (declared !== undefined) {
    if (declared.length === 0 || declared.length > 16) return OTHER;
    for (let i = 0; i < declared.length; i++) {
      const c = declared.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return OTHER;
    }
    length = Number(declared);
    if (length > options.maxMessageBytes) return OTHER;
  }
  if (!takes('POST', url, headers['content-type'])) return OTHER;
  const bodyStart = headEnd + HEAD_END.length;
  if (buf.length < bodyStart + length) return INCOMPLETE;
  return { kind: 'append', request: { url, headers }, bodyStart, bodyEnd: bodyStart + length };
}

let dateSecond = -1;
let dateText = '';
/** The Date header's value; like Node, worked out at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A response written to the socket in one piece, with the headers Node would add. */
class WireReply implements AppendReply {
  statusCode = 200;
  headersSent = false;
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly keepAliveSeconds: number,
    private readonly closing: () => boolean,
  ) {}

  setHeader(name: string, value: string | number): this {
    const lower = name.toLowerCase();
    const at = this.names.indexOf(lower);
    if (at >= 0) this.values[at] = String(value);
    else {
      this.names.push(lower);
      this.values.push(String(value));
    }
    return this;
  }

  hasHeader(name: string): boolean {
    return this.names.includes(name.toLowerCase());
  }

  end(body = ''): this {
    if (this.headersSent || this.socket.destroyed) return this;
    this.headersSent = true;
    const status = this.statusCode;
    if (status !== 204 && status !== 304 && !this.hasHeader('content-length')) this.setHeader('content-length', Buffer.byteLength(body));
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < this.names.length; i++) head += `${this.names[i]}: ${this.values[i]}\r\n`;
    head += `Date: ${httpDate()}\r\n`;
    const close = this.closing();
    if (close) head += 'Connection: close\r\n\r\n';
    else head += `Connection: keep-alive\r\n${this.keepAliveSeconds > 0 ? `Keep-Alive: timeout=${this.keepAliveSeconds}\r\n` : ''}\r\n`;
    // Header values are Latin-1 on the wire, as Node writes them; the body is UTF-8.
    if (body === '') this.socket.write(head, 'latin1');
    else {
      this.socket.cork();
      this.socket.write(head, 'latin1');
      this.socket.write(body, 'utf8');
      this.socket.uncork();
    }
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }
}

/**
 * Takes over the server's `connection` event: each new connection is read
 * here first, and Node's own connection handler gets it at the first request
 * this path does not take.
 */
export function takeAppendConnections(server: Server, fastPath: AppendFastPath, options: WireAppendsOptions): WireAppends {
  const [nodeListener, ...others] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (!nodeListener || others.length > 0) throw new Error("expected exactly one connection listener (Node's) on the server");
  server.removeListener('connection', nodeListener);

  const open = new Set<Connection>();
  let answered = 0;
  let handedOver = 0;
  /** More than a whole request may wait while one is answered; beyond that the socket is paused. */
  const maxBuffered = options.maxHeaderBytes + options.maxMessageBytes;

  class Connection {
    private buffered: Buffer | null = null;
    private busy = false;
    private ended = false;

    constructor(private readonly socket: Socket) {
      socket.on('data', this.onData);
      socket.on('end', this.onEnd);
      socket.on('error', this.onError);
      socket.on('close', this.onClose);
      socket.on('timeout', this.onTimeout);
      socket.setTimeout(server.keepAliveTimeout);
      open.add(this);
    }

    private readonly onData = (chunk: Buffer): void => {
      this.buffered = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
      if (!this.busy) this.next();
      else if (this.buffered.length > maxBuffered) this.socket.pause();
    };

    private readonly onEnd = (): void => {
      this.ended = true;
      if (!this.busy) this.next();
    };

    private readonly onError = (): void => {
      this.socket.destroy();
    };

    private readonly onClose = (): void => {
      open.delete(this);
    };

    private readonly onTimeout = (): void => {
      if (this.busy) return;
      // A request that stopped halfway is Node's: its own timeouts then apply.
      if (this.buffered !== null && !this.ended) this.handOver();
      else this.socket.destroy();
    };

    /** Answers the next whole request, hands the connection over, or waits for more bytes. */
    private next(): void {
      const buf = this.buffered;
      if (buf === null) {
        if (this.ended) this.socket.end();
        return;
      }
      const parsed = parseAppend(buf, options, fastPath.takes);
      if (parsed.kind === 'incomplete') {
        if (this.ended) this.socket.destroy();
        return;
      }
      if (parsed.kind === 'other') {
        if (this.ended) this.socket.destroy();
        else this.handOver();
        return;
      }
      const { request, bodyStart, bodyEnd } = parsed;
      // A body that shares its buffer with the next request is copied, so
      // whatever keeps the body does not keep the rest alive.
      const body = bodyEnd === buf.length ? buf.subarray(bodyStart, bodyEnd) : Buffer.from(buf.subarray(bodyStart, bodyEnd));
      this.buffered = bodyEnd === buf.length ? null : buf.subarray(bodyEnd);
      this.busy = true;
      answered++;
      const reply = new WireReply(this.socket, Math.floor(server.keepAliveTimeout / 1000), options.isClosing);
      fastPath.answer(request, body, reply).then(
        () => this.answeredOne(),
        // The fast path answers its own errors; one escaping it leaves the connection in an unknown state.
        () => this.socket.destroy(),
      );
    }

    private answeredOne(): void {
      this.busy = false;
      if (this.socket.destroyed) return;
      if (options.isClosing()) {
        this.socket.end();
        return;
      }
      if (this.socket.isPaused()) this.socket.resume();
      this.next();
    }

    /** Gives the socket, and every byte not yet answered, to Node's HTTP server. */
    private handOver(): void {
      const { socket } = this;
      open.delete(this);
      handedOver++;
      socket.setTimeout(0);
      socket.removeListener('data', this.onData);
      socket.removeListener('end', this.onEnd);
      socket.removeListener('error', this.onError);
      socket.removeListener('close', this.onClose);
      socket.removeListener('timeout', this.onTimeout);
      if (this.buffered !== null) socket.unshift(this.buffered);
      this.buffered = null;
      nodeListener.call(server, socket);
      // Node's parser now reads the socket; the bytes put back reach it first.
      socket.resume();
    }

    /** Shutdown: a connection between requests closes now, a busy one after its answer. */
    closeIfIdle(): void {
      if (!this.busy) this.socket.destroy();
    }

    destroy(): void {
      this.socket.destroy();
    }
  }

  server.on('connection', (socket: Socket) => {
    new Connection(socket);
  });

  return {
    get answered() {
      return answered;
    },
    get handedOver() {
      return handedOver;
    },
    closeIdle: () => {
      for (const connection of open) connection.closeIfIdle();
    },
    closeAll: () => {
      for (const connection of open) connection.destroy();
    },
  };
}
