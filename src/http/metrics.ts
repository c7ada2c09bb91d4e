/** Prometheus metrics (O6): requests, latencies, tokens issued by grant, errors by code. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly tokensIssued: Counter<'grant_type'>;
  readonly errors: Counter<'error'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tollgate_process_' });
  return {
    registry,
    requests: new Counter({
      name: 'tollgate_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'tollgate_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'tollgate_tokens_issued_total',
      help: 'Access tokens issued, by grant type',
      labelNames: ['grant_type'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'tollgate_oauth_errors_total',
      help: 'Error responses by OAuth error code',
      labelNames: ['error'] as const,
      registers: [registry],
    }),
  };
}
