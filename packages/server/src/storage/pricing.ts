/**
 * List prices (USD per million tokens) for estimating the cost of a `usage`
 * event that does not carry `costUsd` itself. Matched by model-name prefix,
 * longest first; an unknown model costs 0 rather than a guess.
 */
interface Price {
  input: number;
  output: number;
  cachedInput: number;
}

const PRICES: [prefix: string, price: Price][] = [
  ['claude-opus-4', { input: 15, output: 75, cachedInput: 1.5 }],
  ['claude-3-opus', { input: 15, output: 75, cachedInput: 1.5 }],
  ['claude-sonnet-4', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-3-7-sonnet', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-3-5-sonnet', { input: 3, output: 15, cachedInput: 0.3 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4, cachedInput: 0.08 }],
  ['claude-haiku-4', { input: 1, output: 5, cachedInput: 0.1 }],
  ['gpt-4o-mini', { input: 0.15, output: 0.6, cachedInput: 0.075 }],
  ['gpt-4o', { input: 2.5, output: 10, cachedInput: 1.25 }],
  ['gpt-4.1-mini', { input: 0.4, output: 1.6, cachedInput: 0.1 }],
  ['gpt-4.1', { input: 2, output: 8, cachedInput: 0.5 }],
].sort((a, b) => (b[0] as string).length - (a[0] as string).length) as [string, Price][];

/** `inputTokens` are the uncached input tokens; cached ones are priced separately. */
export function estimateCostUsd(model: string | null, inputTokens: number, outputTokens: number, cachedInputTokens: number): number {
  if (!model) return 0;
  const found = PRICES.find(([prefix]) => model.startsWith(prefix));
  if (!found) return 0;
  const price = found[1];
  return (inputTokens * price.input + outputTokens * price.output + cachedInputTokens * price.cachedInput) / 1_000_000;
}
