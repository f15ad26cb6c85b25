import type { AgentHandler, TurnContext } from '@tether/client';

export interface EchoOptions {
  /** Pause between words, so a reader can watch the message arrive. */
  delayMs?: number;
}

const MODEL = 'echo-1';
const COLORS = ['red', 'green', 'blue'] as const;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Streams `text` as one assistant message, a delta per word. */
async function say(ctx: TurnContext, text: string, delayMs: number): Promise<number> {
  const message = await ctx.startMessage({ model: MODEL });
  const words = text.split(/\s+/).filter(Boolean);
  for (const [i, word] of words.entries()) {
    await message.delta(i === 0 ? word : ` ${word}`);
    // Stopping between words is what makes an interrupt take effect at once.
    await pause(delayMs, ctx.signal);
  }
  await message.complete();
  return words.length;
}

/**
 * An agent without a model: it echoes the user's message word by word,
 * counts the words with a pretend tool, and, when asked to "choose", asks
 * the user to pick a colour first. Everything a real agent writes to a
 * session (messages, tool calls, usage, questions) without an LLM bill.
 */
export function echoAgent(options: EchoOptions = {}): AgentHandler {
  const delayMs = options.delayMs ?? 80;
  return async (ctx) => {
    const text = ctx.text.trim() || '(nothing)';
    let outputWords = await say(ctx, `You said: ${text}`, delayMs);
    const { words } = await ctx.toolCall('word_count', { text }, () => ({ words: text.split(/\s+/).filter(Boolean).length }));
    outputWords += await say(ctx, `That was ${words} ${words === 1 ? 'word' : 'words'}.`, delayMs);
    if (/\bchoose\b/i.test(text)) {
      const color = await ctx.waitForChoice('Pick one', COLORS);
      outputWords += await say(ctx, `You picked ${color}. Good choice.`, delayMs);
    }
    await ctx.recordUsage({ inputTokens: words, outputTokens: outputWords, model: MODEL });
  };
}
