import http from 'http';
import type { MetricQueries } from '../sources/metric-queries';
import type { MetricSource } from '../sources/metric-source';
import { analyzeResource } from './analyze-resource';
import { MethodNotAllowedError, NotFoundError, toErrorResponse } from './errors';
import { renderExploreUrl, type ExploreTemplate } from './explore-link';
import type { Logger } from './logger';
import { parseAnomalyRequest } from './parse-anomaly-request';
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
}

const SUMMARY_PATH = '/api/v1/anomalies/summary';
const PATHS = new Set(['/api/v1/anomalies', SUMMARY_PATH, '/healthz']);

/**
 * The service: `GET /api/v1/anomalies`, `GET /api/v1/anomalies/summary` (docs/anomaly-api.md)
 * and `GET /healthz`.
 */
export function createAnomalyServer(options: AnomalyServerOptions): http.Server {
  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    void handle(req, options).then(({ status, body, cause, podSelection, workloads }) => {
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
}

async function handle(req: http.IncomingMessage, options: AnomalyServerOptions): Promise<Outcome> {
  try {
    const url = new URL(req.url ?? '/', 'http://backend');
    if (!PATHS.has(url.pathname)) throw new NotFoundError(`no such path: ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new MethodNotAllowedError(`method ${req.method} not allowed`);
    }
    if (url.pathname === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (url.pathname === SUMMARY_PATH) {
      const request = parseSummaryRequest(url.searchParams);
      const report = await summarizeWorkloads(request, options.source, options.queries);
      return { status: 200, body: report, workloads: request.workloads.length };
    }
    const request = parseAnomalyRequest(url.searchParams);
    const report = await analyzeResource(request, options.source, options.queries);
    const template = options.exploreUrl;
    if (template) {
      for (const series of report.series) {
        series.exploreUrl = renderExploreUrl(template, { query: series.query, ...report.range });
      }
    }
    return { status: 200, body: report, podSelection: report.podSelection };
  } catch (err) {
    const { status, body } = toErrorResponse(err);
    return {
      status,
      body,
      cause: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
