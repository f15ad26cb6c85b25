/**
 * Incremental Server-Sent Events parser: feed it text chunks, it calls
 * `onEvent(name, data, receivedAt)` once per complete event, where
 * `receivedAt` is the arrival time of the chunk that completed the event.
 */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
  }

  push(text, receivedAt) {
    this.buffer += text;
    let end;
    while ((end = this.nextBoundary()) !== null) {
      const block = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end.length);
      this.dispatch(block, receivedAt);
    }
  }

  nextBoundary() {
    const match = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
    return match ? { index: match.index, length: match[0].length } : null;
  }

  dispatch(block, receivedAt) {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) this.onEvent(name, data.join('\n'), receivedAt);
  }
}
