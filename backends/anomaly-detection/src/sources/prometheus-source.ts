import http from 'http';
import https from 'https';
import type { SeriesPoint } from '../detector';
import {
  type MetricSource,
  type QueryCounters,
  type SeriesGroup,
  SourceQueryError,
  SourceTimeoutError,
  SourceUnavailableError,
} from './metric-source';

export interface PrometheusSourceOptions {
  /** Base URL of Prometheus. Example: `http://prometheus.monitoring:9090` (a path prefix is kept). */
  url: string;
  /** Per-request timeout in milliseconds, counted from when the request is sent. Default: 10000. */
  timeoutMs?: number;
  /**
   * Most queries in flight to this Prometheus at once, over every request the service is
   * answering; the rest wait their turn. Default: {@link DEFAULT_MAX_CONCURRENT}.
   */
  maxConcurrent?: number;
}

/**
 * Default bound on queries in flight to one Prometheus: twice one request's own bound
 * (analyze-resource.ts, MAX_CONCURRENT_QUERIES), so two tabs opening at once both progress
 * while a crowd of them cannot flood Prometheus (which runs 20 queries at once by default,
 * `--query.max-concurrency`, for every user of it, dashboards and rules included).
 */
export const DEFAULT_MAX_CONCURRENT = 8;

/** Largest response body read from Prometheus (bounded so a bad upstream cannot exhaust memory). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Longest Prometheus error message passed to the client. */
const MAX_MESSAGE_LENGTH = 200;

interface PrometheusResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: MatrixSeries[] };
}

interface MatrixSeries {
  metric?: Record<string, string>;
  values?: [number, string][];
}

/** Reads series with Prometheus's HTTP API, `GET /api/v1/query_range`. */
export class PrometheusSource implements MetricSource {
  readonly kind = 'prometheus';
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: PrometheusSourceOptions) {
    this.base = new URL(options.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new Error(`Prometheus URL must be http or https, got ${options.url}`);
    }
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
    if (!(this.maxConcurrent >= 1)) throw new Error('maxConcurrent must be at least 1');
  }

  async queryRange(
    query: string,
    from: number,
    to: number,
    step: number,
    counters?: QueryCounters,
  ): Promise<SeriesPoint[]> {
    const { status, body } = await this.get(this.rangeUrl(query, from, to, step), counters);
    const points = parseRangeResponse(status, body);
    if (counters) counters.points += points.length;
    return points;
  }

  private rangeUrl(query: string, from: number, to: number, step: number): URL {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}/api/v1/query_range`, this.base);
    url.search = new URLSearchParams({
      query,
      start: String(from),
      end: String(to),
      step: String(step),
    }).toString();
    return url;
  }

  async queryRangeGrouped(
    query: string,
    from: number,
    to: number,
    step: number,
    groups: readonly SeriesGroup[],
    counters?: QueryCounters,
  ): Promise<SeriesPoint[][]> {
    if (groups.length === 0) return [];
    const { status, body } = await this.get(this.rangeUrl(query, from, to, step), counters);
    const perGroup = groupRangeResponse(status, body, groups);
    if (counters) for (const points of perGroup) counters.points += points.length;
    return perGroup;
  }

  /** A GET once fewer than `maxConcurrent` are in flight. */
  private async get(url: URL, counters?: QueryCounters): Promise<{ status: number; body: string }> {
    // A finished query hands its slot straight to the longest waiting one, so a query that
    // arrives in between cannot take it too.
    if (this.active < this.maxConcurrent) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (counters) counters.queries++;
    try {
      return await this.send(url);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private send(url: URL): Promise<{ status: number; body: string }> {
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
  return sumSeries(parseMatrix(status, body));
}

/**
 * Turns a `query_range` answer into one series per group: each result series goes to the
 * group whose labels it carries (and nowhere when none), then each group's are summed.
 */
export function groupRangeResponse(
  status: number,
  body: string,
  groups: readonly SeriesGroup[],
): SeriesPoint[][] {
  const names = Object.keys(groups[0]?.labels ?? {}).sort();
  const keyOf = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(names.map((name) => labels[name] ?? null));
  const index = new Map(groups.map((group, i) => [keyOf(group.labels), i]));
  const members: MatrixSeries[][] = groups.map(() => []);
  for (const series of parseMatrix(status, body)) {
    const i = index.get(keyOf(series.metric ?? {}));
    if (i !== undefined) members[i].push(series);
  }
  return members.map(sumSeries);
}

function parseMatrix(status: number, body: string): MatrixSeries[] {
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
  return parsed.data.result;
}

/** The per-timestamp sum of `series`; a timestamp whose only values are not finite is a gap. */
function sumSeries(series: readonly MatrixSeries[]): SeriesPoint[] {
  const sums = new Map<number, number | null>();
  for (const { values } of series) {
    for (const [t, text] of values ?? []) {
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
