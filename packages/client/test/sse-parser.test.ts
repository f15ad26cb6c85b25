import { describe, expect, it } from 'vitest';
import { SseParser, sseFrames, type SseFrame } from '../src/index.js';

function parseInChunks(text: string, sizes: number[]): SseFrame[] {
  const parser = new SseParser();
  const frames: SseFrame[] = [];
  let at = 0;
  for (const size of sizes) {
    frames.push(...parser.push(text.slice(at, at + size)));
    at += size;
  }
  frames.push(...parser.push(text.slice(at)));
  return frames;
}

const SAMPLE =
  'event: data\ndata:[{"type":"a"},\ndata:{"type":"b"}]\n\n' +
  ': keep-alive\n\n' +
  'event: control\r\ndata:{"streamNextOffset":"0000000000000000_0000000000000002","upToDate":true}\r\n\r\n' +
  'id: 7\revent: session\rdata: {"x":1}\r\r';

const EXPECTED: SseFrame[] = [
  { event: 'data', data: '[{"type":"a"},\n{"type":"b"}]' },
  { event: 'control', data: '{"streamNextOffset":"0000000000000000_0000000000000002","upToDate":true}' },
  { event: 'session', data: '{"x":1}', id: '7' },
];

describe('SSE frame parser', () => {
  it('parses data and control frames with LF, CRLF and CR line breaks, skipping comments', () => {
    expect(parseInChunks(SAMPLE, [])).toEqual(EXPECTED);
  });

  it('gives the same frames however the text is split, including between CR and LF', () => {
    for (let size = 1; size <= 9; size++) {
      const sizes = Array.from({ length: Math.ceil(SAMPLE.length / size) }, () => size);
      expect(parseInChunks(SAMPLE, sizes)).toEqual(EXPECTED);
    }
    const crlf = SAMPLE.indexOf('\r\n');
    expect(parseInChunks(SAMPLE, [crlf + 1])).toEqual(EXPECTED);
  });

  it('strips one space after the colon, defaults the event name, and drops an unterminated event', () => {
    const parser = new SseParser();
    expect(parser.push('data:  two spaces\n\ndata\n\nevent: x\ndata: cut')).toEqual([
      { event: 'message', data: ' two spaces' },
      { event: 'message', data: '' },
    ]);
  });

  it('decodes UTF-8 split across network chunks', async () => {
    const bytes = new TextEncoder().encode('event: data\ndata:{"t":"héllo ✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const frames: SseFrame[] = [];
    for await (const frame of sseFrames(body)) frames.push(frame);
    expect(frames).toEqual([{ event: 'data', data: '{"t":"héllo ✓"}' }]);
  });
});
