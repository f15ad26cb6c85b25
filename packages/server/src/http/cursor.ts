/**
 * Live-mode cursors for CDN collapsing: the number of 20-second intervals since
 * 2024-10-09T00:00:00Z, never going backwards for a client that echoes one.
 */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const INTERVAL_MS = 20_000;

export function nextCursor(now: number, clientCursor: string | undefined): string {
  const current = Math.floor((now - CURSOR_EPOCH_MS) / INTERVAL_MS);
  const echoed = clientCursor !== undefined && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : -1;
  if (echoed < current) return String(current);
  // Jitter of 1–3600 seconds, in whole intervals, past what the client holds.
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(echoed + Math.max(1, Math.ceil(jitterSeconds / (INTERVAL_MS / 1000))));
}
