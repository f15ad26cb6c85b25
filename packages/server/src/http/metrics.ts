/**
 * `/metrics` in the Prometheus text format (DESIGN §9): requests and their
 * latency by route and status, open live reads, acknowledged appends and
 * turns by status. Counters live in this process; each replica reports its own.
 */
import type { FastifyInstance } from 'fastify';
import type { LiveReaders } from './live-readers.js';
import type { TurnStore } from '../storage/turn-types.js';
import { access } from './access-rules.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  appends = 0;

  /** Label text per method and route, and per status under it: built once, not per request. */
  private readonly series = new Map<string, { key: string; histogram: Histogram; byStatus: Map<number, string> }>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const id = `${method} ${route}`;
    let series = this.series.get(id);
    if (!series) {
      const key = `method="${label(method)}",route="${label(route)}"`;
      const histogram = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(key, histogram);
      this.series.set(id, (series = { key, histogram, byStatus: new Map() }));
    }
    let counted = series.byStatus.get(status);
    if (counted === undefined) series.byStatus.set(status, (counted = `${series.key},status="${status}"`));
    this.requests.set(counted, (this.requests.get(counted) ?? 0) + 1);
    const { histogram } = series;
    for (let index = 0; index < BUCKETS.length; index++) if (seconds <= BUCKETS[index]!) histogram.counts[index]!++;
    histogram.sum += seconds;
    histogram.count++;
  }

  render(extra: { liveReaders: number; turns: Record<string, number> }): string {
    const lines: string[] = [];
    lines.push('# HELP tether_http_requests_total HTTP requests answered, by route and status.');
    lines.push('# TYPE tether_http_requests_total counter');
    for (const [labels, value] of this.requests) lines.push(`tether_http_requests_total{${labels}} ${value}`);
    lines.push('# HELP tether_http_request_duration_seconds Time to answer (for live reads: until the response ended).');
    lines.push('# TYPE tether_http_request_duration_seconds histogram');
    for (const [labels, histogram] of this.durations) {
      BUCKETS.forEach((bound, index) =>
        lines.push(`tether_http_request_duration_seconds_bucket{${labels},le="${bound}"} ${histogram.counts[index]}`),
      );
      lines.push(`tether_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${histogram.count}`);
      lines.push(`tether_http_request_duration_seconds_sum{${labels}} ${histogram.sum}`);
      lines.push(`tether_http_request_duration_seconds_count{${labels}} ${histogram.count}`);
    }
    lines.push('# HELP tether_live_readers Open long-poll, SSE and claim requests.');
    lines.push('# TYPE tether_live_readers gauge');
    lines.push(`tether_live_readers ${extra.liveReaders}`);
    lines.push('# HELP tether_appends_total Acknowledged appends through the stream API.');
    lines.push('# TYPE tether_appends_total counter');
    lines.push(`tether_appends_total ${this.appends}`);
    lines.push('# HELP tether_turns Turns in the store, by status.');
    lines.push('# TYPE tether_turns gauge');
    for (const status of ['queued', 'running', 'waiting', 'completed', 'failed', 'interrupted', 'cancelled']) {
      lines.push(`tether_turns{status="${status}"} ${extra.turns[status] ?? 0}`);
    }
    return lines.join('\n') + '\n';
  }
}

export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    // Unmatched URLs share one label so random paths cannot grow the series without bound.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

export async function metricsRoutes(app: FastifyInstance, options: { metrics: Metrics; live: LiveReaders; turns: TurnStore }): Promise<void> {
  app.get(
    '/metrics',
    { config: { access: access.roles('admin') }, schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] } },
    async (_request, reply) => {
      const turns = await options.turns.countByStatus();
      return reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(options.metrics.render({ liveReaders: options.live.size, turns }));
    },
  );
}
