import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Transcript, type ChannelEvent } from '../src/transcript.js';

/** Two turns as a runner writes them: the second asks a question, and a third message is still queued. */
const OUT: ChannelEvent[] = [
  { type: 'message.started', messageId: 'm1', role: 'assistant', model: 'echo-1' },
  { type: 'message.delta', messageId: 'm1', text: 'You' },
  { type: 'message.delta', messageId: 'm1', text: ' said: hi' },
  { type: 'message.completed', messageId: 'm1' },
  { type: 'tool.call', toolCallId: 't1', name: 'word_count', input: { text: 'hi' } },
  { type: 'tool.result', toolCallId: 't1', name: 'word_count', output: { words: 1 }, durationMs: 3 },
  { type: 'usage', inputTokens: 1, outputTokens: 3, costUsd: 0.002 },
  { type: 'turn.completed', turnId: 'turn_1' },
  { type: 'message', role: 'assistant', text: 'Which one?' },
  { type: 'interaction.requested', interactionId: 'int_1', kind: 'choice', prompt: 'Pick one', choices: ['red', 'green'] },
  { type: 'interaction.resolved', interactionId: 'int_1', status: 'resolved' },
  { type: 'message.started', messageId: 'm2', role: 'assistant' },
  { type: 'message.delta', messageId: 'm2', text: 'You picked green.' },
];
const IN: ChannelEvent[] = [
  { type: 'user.message', content: 'hi', turnId: 'turn_1' },
  { type: 'user.message', content: 'please choose', turnId: 'turn_2' },
  { type: 'interaction.response', interactionId: 'int_1', response: 'green' },
  { type: 'user.message', content: 'and then?', turnId: 'turn_3' },
];

const shape = (transcript: Transcript) =>
  transcript.items.map((item) => {
    switch (item.kind) {
      case 'user':
        return `user:${item.text}${item.queued ? ' (queued)' : ''}`;
      case 'message':
        return `message:${item.text}${item.done ? '' : '…'}`;
      case 'tool':
        return `tool:${item.name}=${JSON.stringify(item.output)}`;
      case 'interaction':
        return `question:${item.prompt}:${item.status}:${JSON.stringify(item.response)}`;
      case 'turn':
        return `turn:${item.event}`;
      case 'usage':
        return `usage:${item.outputTokens}`;
    }
  });

const EXPECTED = [
  'user:hi',
  'message:You said: hi',
  'tool:word_count={"words":1}',
  'usage:3',
  'turn:completed',
  'user:please choose',
  'message:Which one?',
  'question:Pick one:resolved:"green"',
  'message:You picked green.…',
  'user:and then? (queued)',
];

describe('Transcript', () => {
  it('folds deltas by messageId and places each user message before its turn', () => {
    const transcript = new Transcript();
    transcript.applyIn(IN);
    transcript.applyOut(OUT);
    expect(shape(transcript)).toEqual(EXPECTED);
    expect(transcript.usage).toEqual({ inputTokens: 1, outputTokens: 3, cachedInputTokens: 0, costUsd: 0.002 });
    expect(transcript.pendingInteractions()).toEqual([]);
  });

  it('builds the same transcript however reads of the two channels interleave', () => {
    // Each channel is cut into batches at arbitrary points and the batches are merged in any order.
    const cuts = (length: number) => fc.uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: length - 1 }).map((xs) => xs.sort((a, b) => a - b));
    const split = (events: ChannelEvent[], at: number[]) => [0, ...at].map((from, i) => events.slice(from, [...at, events.length][i]));
    fc.assert(
      fc.property(cuts(OUT.length), cuts(IN.length), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (outCuts, inCuts, order) => {
        const outBatches = split(OUT, outCuts);
        const inBatches = split(IN, inCuts);
        const transcript = new Transcript();
        for (const takeOut of order) {
          if (takeOut && outBatches.length) transcript.applyOut(outBatches.shift()!);
          else if (inBatches.length) transcript.applyIn(inBatches.shift()!);
          // The view reads the transcript after every batch, as the page renders it.
          void transcript.items;
        }
        for (const batch of outBatches) transcript.applyOut(batch);
        for (const batch of inBatches) transcript.applyIn(batch);
        expect(shape(transcript)).toEqual(EXPECTED);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a pending question pending until it is resolved, and a completed message’s own text wins', () => {
    const transcript = new Transcript();
    transcript.applyOut([
      { type: 'message.started', messageId: 'a', role: 'assistant' },
      { type: 'message.delta', messageId: 'a', text: 'partial' },
      { type: 'message.completed', messageId: 'a', text: 'the whole text' },
      { type: 'interaction.requested', interactionId: 'int_9', kind: 'approval', prompt: 'Deploy?' },
    ]);
    expect(transcript.pendingInteractions().map((item) => item.interactionId)).toEqual(['int_9']);
    expect(shape(transcript)[0]).toBe('message:the whole text');
    transcript.applyOut([{ type: 'interaction.resolved', interactionId: 'int_9', status: 'denied' }]);
    expect(transcript.pendingInteractions()).toEqual([]);
    expect(shape(transcript)[1]).toBe('question:Deploy?:denied:undefined');
  });
});
