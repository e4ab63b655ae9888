import http from 'http';
import { BoundedCache } from '../../../../proxy-server/src/util/bounded-cache';
import type { MetricQueries } from '../sources/metric-queries';
import { type MetricSource, newQueryCounters, type QueryCounters } from '../sources/metric-source';
import { analyzeResource, type AnomalyReport } from './analyze-resource';
import { MethodNotAllowedError, NotFoundError, toErrorResponse } from './errors';
import { renderExploreUrl, type ExploreTemplate } from './explore-link';
import type { Logger } from './logger';
import { type AnomalyRequest, parseAnomalyRequest } from './parse-anomaly-request';
import { parseSummaryRequest, summarizeWorkloads } from './summarize-workloads';

/**
 * Identity headers set by the sidecar (README.md, "Headers the backend receives"). They are
 * logged so a request can be traced to a user; the backend never receives cookies or tokens.
 */
export const HEADER_USERNAME = 'argocd-username';
export const HEADER_APPLICATION = 'argocd-application-name';

export interface AnomalyServerOptions {
  source: MetricSource;
  queries: MetricQueries;
  log: Logger;
  /** `--explore-url`: each series links to its query and range there. */
  exploreUrl?: ExploreTemplate;
  /**
   * How long the report of a resource and range is reused for the same request (an open of
   * the tab within the same step, a refresh, a second user): milliseconds. Identical requests
   * in flight at once are always answered by one analysis. Default: REPORT_CACHE_MS.
   */
  reportCacheMs?: number;
}

/**
 * Default reuse of a report: 30 s, as the extension keeps a summary. The extension asks for
 * ranges ending on a multiple of the step, so the same tab opened again within the step is
 * the same request.
 */
export const REPORT_CACHE_MS = 30_000;
/** Reports kept for reuse: a report of a fine range is a few hundred KiB in memory. */
const REPORT_CACHE_ENTRIES = 32;

const SUMMARY_PATH = '/api/v1/anomalies/summary';
const PATHS = new Set(['/api/v1/anomalies', SUMMARY_PATH, '/healthz']);

/**
 * The service: `GET /api/v1/anomalies`, `GET /api/v1/anomalies/summary` (docs/anomaly-api.md)
 * and `GET /healthz`.
 */
export function createAnomalyServer(options: AnomalyServerOptions): http.Server {
  const reports = new ReportCache(options);
  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const counters = newQueryCounters();
    void handle(req, options, reports, counters).then((outcome) => {
      const { status, body, cause, podSelection, workloads, reuse } = outcome;
      const payload = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'cache-control': 'no-store',
        ...(status === 405 ? { allow: 'GET' } : {}),
      });
      res.end(payload);
      options.log(status >= 500 ? 'error' : 'info', 'request', {
        method: req.method,
        path: req.url,
        status,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        user: headerValue(req, HEADER_USERNAME),
        application: headerValue(req, HEADER_APPLICATION),
        ...(podSelection ? { podSelection } : {}),
        ...(workloads !== undefined ? { workloads } : {}),
        ...(reuse ? { report: reuse } : {}),
        // What answering cost Prometheus (none for a reused report).
        queries: counters.queries,
        points: counters.points,
        cachedPoints: counters.cachedPoints,
        ...(cause ? { error: cause } : {}),
      });
    });
  });
}

interface Outcome {
  status: number;
  body: unknown;
  /** For the log only: why it failed. */
  cause?: string;
  /** How the pods were found (a 200 answer only), logged so a fallback is visible. */
  podSelection?: string;
  /** How many workloads a summary scored (a 200 answer only). */
  workloads?: number;
  /** A report not analysed for this request: `shared` with one in flight, or `cached`. */
  reuse?: 'shared' | 'cached';
}

/**
 * Reports by request: one analysis for identical requests in flight at once, and the
 * answer reused for REPORT_CACHE_MS. A failed analysis is not kept.
 */
class ReportCache {
  private readonly entries: BoundedCache<Promise<AnomalyReport>>;
  private readonly pending = new Set<Promise<AnomalyReport>>();
  private readonly ttlMs: number;

  constructor(private readonly options: AnomalyServerOptions) {
    this.ttlMs = options.reportCacheMs ?? REPORT_CACHE_MS;
    this.entries = new BoundedCache(REPORT_CACHE_ENTRIES);
  }

  get(
    request: AnomalyRequest,
    counters: QueryCounters,
  ): { report: Promise<AnomalyReport>; reuse?: 'shared' | 'cached' } {
    const { resource, from, to, step } = request;
    const key = JSON.stringify([
      resource.group,
      resource.kind,
      resource.namespace,
      resource.name,
      from,
      to,
      step ?? null,
    ]);
    const hit = this.entries.get(key);
    if (hit) return { report: hit, reuse: this.pending.has(hit) ? 'shared' : 'cached' };
    const report = analyzeResource(request, this.options.source, this.options.queries, counters);
    this.pending.add(report);
    // Kept while in flight even with no reuse configured, so identical requests share it.
    this.entries.set(key, report, Date.now() + Math.max(this.ttlMs, 60_000));
    report.then(
      () => {
        this.pending.delete(report);
        if (this.ttlMs > 0) this.entries.set(key, report, Date.now() + this.ttlMs);
        else this.entries.delete(key);
      },
      () => {
        this.pending.delete(report);
        this.entries.delete(key);
      },
    );
    return { report };
  }
}

async function handle(
  req: http.IncomingMessage,
  options: AnomalyServerOptions,
  reports: ReportCache,
  counters: QueryCounters,
): Promise<Outcome> {
  let reuse: Outcome['reuse'];
  try {
    const url = new URL(req.url ?? '/', 'http://backend');
    if (!PATHS.has(url.pathname)) throw new NotFoundError(`no such path: ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new MethodNotAllowedError(`method ${req.method} not allowed`);
    }
    if (url.pathname === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (url.pathname === SUMMARY_PATH) {
      const request = parseSummaryRequest(url.searchParams);
      const report = await summarizeWorkloads(request, options.source, options.queries, counters);
      return { status: 200, body: report, workloads: request.workloads.length };
    }
    const request = parseAnomalyRequest(url.searchParams);
    const found = reports.get(request, counters);
    reuse = found.reuse;
    const report = await found.report;
    const template = options.exploreUrl;
    if (template) {
      // Shared reports get the same links again: the template and the range are the same.
      for (const series of report.series) {
        series.exploreUrl = renderExploreUrl(template, { query: series.query, ...report.range });
      }
    }
    return { status: 200, body: report, podSelection: report.podSelection, reuse };
  } catch (err) {
    const { status, body } = toErrorResponse(err);
    return {
      status,
      body,
      reuse,
      cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
