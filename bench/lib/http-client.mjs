/**
 * A thin keep-alive HTTP/1.1 client over node:http. One instance per role
 * (writers, a live reader) so a parked long-poll never holds a writer's socket.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export class HttpClient {
  /** `headers` go with every request (e.g. a credential). */
  constructor(baseUrl, { maxSockets = 64, headers = {} } = {}) {
    this.headers = headers;
    const url = new URL(baseUrl);
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  /** Sends a request and buffers the response; `receivedAt` is when its last byte arrived. */
  request(method, path, { headers = {}, body, signal } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
      const req = http.request(
        {
          agent: this.agent,
          hostname: this.hostname,
          port: this.port,
          method,
          path,
          signal,
          headers: payload ? { ...this.headers, ...headers, 'content-length': payload.length } : { ...this.headers, ...headers },
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              headers: res.headers,
              body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
              receivedAt: performance.now(),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Opens a streaming response (SSE). Resolves with the response once its
   * headers arrive; `onChunk(text, receivedAt)` sees every body chunk.
   */
  openStream(path, { headers = {}, signal, onChunk }) {
    return new Promise((resolve, reject) => {
      const req = http.request({ agent: this.agent, hostname: this.hostname, port: this.port, path, signal, headers: { ...this.headers, ...headers } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (text) => onChunk(text, performance.now()));
        res.on('error', () => {});
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

export async function expectStatus(response, allowed, what) {
  if (allowed.includes(response.status)) return response;
  const text = response.body?.toString('utf8').slice(0, 300) ?? '';
  throw new Error(`${what}: HTTP ${response.status} ${text}`);
}
