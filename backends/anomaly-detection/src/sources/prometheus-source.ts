import http from 'http';
import https from 'https';
import type { SeriesPoint } from '../detector';
import {
  type MetricSource,
  SourceQueryError,
  SourceTimeoutError,
  SourceUnavailableError,
} from './metric-source';

export interface PrometheusSourceOptions {
  /** Base URL of Prometheus. Example: `http://prometheus.monitoring:9090` (a path prefix is kept). */
  url: string;
  /** Per-request timeout in milliseconds. Default: 10000. */
  timeoutMs?: number;
}

/** Largest response body read from Prometheus (bounded so a bad upstream cannot exhaust memory). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Longest Prometheus error message passed to the client. */
const MAX_MESSAGE_LENGTH = 200;

interface PrometheusResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: { values?: [number, string][] }[] };
}

/** Reads series with Prometheus's HTTP API, `GET /api/v1/query_range`. */
export class PrometheusSource implements MetricSource {
  readonly kind = 'prometheus';
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(options: PrometheusSourceOptions) {
    this.base = new URL(options.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`Prometheus URL must be http or https, got ${options.url}`);
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async queryRange(query: string, from: number, to: number, step: number): Promise<SeriesPoint[]> {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}/api/v1/query_range`, this.base);
    url.search = new URLSearchParams({
      query,
      start: String(from),
      end: String(to),
      step: String(step),
    }).toString();
    const { status, body } = await this.get(url);
    return parseRangeResponse(status, body);
  }

  private get(url: URL): Promise<{ status: number; body: string }> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.get(url, { headers: { accept: 'application/json' } }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy(new SourceQueryError('Prometheus response too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', fail);
      });
      const timer = setTimeout(() => {
        request.destroy(
          new SourceTimeoutError(`Prometheus did not answer within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        if (err instanceof SourceTimeoutError || err instanceof SourceQueryError) reject(err);
        else reject(new SourceUnavailableError(`Prometheus unreachable: ${err.message}`));
      }
      request.on('error', fail);
    });
  }
}

/** Turns a `query_range` answer into one series, summing several result series per timestamp. */
export function parseRangeResponse(status: number, body: string): SeriesPoint[] {
  let parsed: PrometheusResponse;
  try {
    parsed = JSON.parse(body) as PrometheusResponse;
  } catch {
    throw new SourceQueryError(`Prometheus answered ${status} with a non-JSON body`);
  }
  if (parsed.status !== 'success') {
    const message = String(parsed.error ?? `status ${status}`).slice(0, MAX_MESSAGE_LENGTH);
    throw new SourceQueryError(`Prometheus query failed: ${message}`);
  }
  if (parsed.data?.resultType !== 'matrix' || !Array.isArray(parsed.data.result)) {
    throw new SourceQueryError('Prometheus did not return a matrix');
  }
  const sums = new Map<number, number | null>();
  for (const series of parsed.data.result) {
    for (const [t, text] of series.values ?? []) {
      const value = Number(text);
      const previous = sums.get(t);
      if (!Number.isFinite(value)) {
        if (previous === undefined) sums.set(t, null);
      } else {
        sums.set(t, (previous ?? 0) + value);
      }
    }
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]);
}
