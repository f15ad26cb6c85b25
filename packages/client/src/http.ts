import { TetherError, errorFromResponse, networkError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** Base URL of the Tether server, e.g. `http://127.0.0.1:4437`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A session token, sent the same way when no `apiKey` is given. */
  token?: string;
  /** Another `fetch` (a proxy-aware one, a test double is never needed). Defaults to the global. */
  fetch?: FetchLike;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (with its own `content-type` header), e.g. a JSONL upload. */
  rawBody?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses to hand back instead of throwing (e.g. 204 from a claim). */
  accept?: number[];
  /**
   * Gives up (as a network error) when no response has begun by then: a
   * connection that died without a reset would otherwise hang for minutes.
   */
  timeoutMs?: number;
}

/** A thin fetch wrapper: JSON in, typed errors out. It never retries; callers decide with `retrying`. */
export class HttpClient {
  readonly baseUrl: string;
  private readonly credential?: string;
  private readonly fetchImpl: FetchLike;

  constructor(options: HttpOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.credential = options.apiKey ?? options.token;
    // Bound so a browser's fetch keeps its `this` (calling it unbound throws "Illegal invocation").
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : this.baseUrl + path;
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.credential) headers.authorization = `Bearer ${this.credential}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const { signal, timeoutMs } = options;
    if (timeoutMs === undefined) {
      // The caller's signal goes to fetch as it is, so it can still end the body later (SSE).
      let response: Response;
      try {
        response = await this.fetchImpl(this.url(path), { method, headers, body, signal });
      } catch (error) {
        throw networkError(error, signal);
      }
      return this.check(response, options);
    }
    const controller = new AbortController();
    const forward = () => controller.abort(signal!.reason);
    if (signal?.aborted) forward();
    signal?.addEventListener('abort', forward, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path), { method, headers, body, signal: controller.signal });
    } catch (error) {
      if (timedOut) throw new TetherError('NETWORK_ERROR', `${method} ${path}: no response in ${timeoutMs} ms`);
      throw networkError(error, signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
    return this.check(response, options);
  }

  private async check(response: Response, options: RequestOptions): Promise<Response> {
    if (response.ok || options.accept?.includes(response.status)) return response;
    throw await errorFromResponse(response);
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await this.request(method, path, options);
    const text = await readText(response, options.signal);
    let body: T;
    try {
      body = (text ? JSON.parse(text) : undefined) as T;
    } catch (error) {
      throw new TetherError('BAD_RESPONSE', `${method} ${path} answered invalid JSON`, response.status, undefined, { cause: error });
    }
    return { status: response.status, body, headers: response.headers };
  }
}

/** Reading a body can fail on its own (the connection drops mid-body); that is a network error too. */
export async function readText(response: Response, signal?: AbortSignal): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw networkError(error, signal);
  }
}

/** Resolves after `ms`, or rejects with `ABORTED` as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TetherError('ABORTED', 'aborted', 0, undefined, { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TetherError('ABORTED', 'aborted', 0, undefined, { cause: signal!.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with full jitter, so many runners that lost the same
 * server do not come back in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 200,
    private readonly maxMs = 5_000,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Gives up after this many attempts (default: never, until `signal` fires). */
  attempts?: number;
  onRetry?: (error: TetherError, delayMs: number) => void;
}

/** Runs `fn` until it succeeds or fails with an error that is not worth retrying. */
export async function retrying<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const backoff = new Backoff();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const failure = error instanceof TetherError ? error : networkError(error, options.signal);
      if (!failure.retriable || options.signal?.aborted || (options.attempts !== undefined && attempt >= options.attempts)) {
        throw failure;
      }
      const delay = backoff.next();
      options.onRetry?.(failure, delay);
      await sleep(delay, options.signal);
    }
  }
}
