/**
 * A Server-Sent Events parser that needs nothing but strings, so it runs in
 * browsers and Node alike. It follows the WHATWG rules Durable Streams
 * servers rely on: any of CRLF, CR or LF ends a line; a blank line ends an
 * event; several `data` lines join with LF; lines starting with `:` are comments.
 */
export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  /** A chunk ended on CR: if the next starts with LF, that LF belongs to the same line break. */
  private pendingCr = false;

  /** Feeds decoded text; returns the events it completed, in order. */
  push(text: string): SseFrame[] {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const frames: SseFrame[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    this.buffer = this.buffer.slice(start);
    return frames;
  }

  private line(line: string): SseFrame | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return null;
  }

  private dispatch(): SseFrame | null {
    const hadData = this.data.length > 0;
    const frame: SseFrame = { event: this.event || 'message', data: this.data.join('\n') };
    if (this.id !== undefined) frame.id = this.id;
    this.event = '';
    this.data = [];
    return hadData ? frame : null;
  }
}

/**
 * Yields the frames of a `text/event-stream` response body until it ends.
 * `onBytes` hears every chunk, keep-alive comments included, so a caller can
 * tell a quiet stream from a dead connection.
 */
export async function* sseFrames(body: ReadableStream<Uint8Array>, onBytes?: () => void): AsyncGenerator<SseFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onBytes?.();
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    // An event not followed by its blank line is incomplete and, per the spec, dropped.
    parser.push(decoder.decode());
  } finally {
    // Stops the download when the consumer leaves early (break, throw, abort).
    reader.cancel().catch(() => {});
  }
}
