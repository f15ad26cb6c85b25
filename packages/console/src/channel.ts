/**
 * Reads a session channel from the start, then follows it live. The catch-up
 * read ends at the offset where the live reader starts, and the SDK's reader
 * only hands over a batch together with the offset after it, so every event
 * is delivered exactly once however often the connection drops.
 */
import { followChannel, type ChannelEvent } from '@tether/client';
import { ApiError, channelClient, getCredential } from './api.js';

export interface ChannelRead {
  events: ChannelEvent[];
  /** Everything written so far has been delivered. */
  upToDate: boolean;
}

export async function* readChannel(path: string, signal: AbortSignal): AsyncGenerator<ChannelRead> {
  let offset = '-1';
  const headers: Record<string, string> = { accept: 'application/json' };
  const credential = getCredential();
  if (credential) headers.authorization = `Bearer ${credential}`;
  for (;;) {
    const response = await fetch(`${path}?offset=${encodeURIComponent(offset)}`, { headers, signal });
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
      throw new ApiError(response.status, body?.error?.code ?? `HTTP_${response.status}`, body?.error?.message ?? `${path} answered ${response.status}`);
    }
    const events = (await response.json()) as ChannelEvent[];
    offset = response.headers.get('stream-next-offset') ?? offset;
    const upToDate = response.headers.get('stream-up-to-date') === 'true';
    yield { events, upToDate };
    if (upToDate) break;
  }
  for await (const batch of followChannel<ChannelEvent>(channelClient(), { path, offset, signal })) yield { events: batch.events, upToDate: true };
}
