/**
 * `npm run bench`, "The Anomalies tab": what a person waits for when opening the Anomalies
 * tab of a Deployment in Argo CD, and what that costs Prometheus and the backend.
 *
 * A real Prometheus (Debian's `prometheus`) on a TSDB backfilled with promtool: 22 days at
 * the backend's default step of a Deployment `web` (3 pods) and a Deployment `warmup`
 * (2 pods) in namespace `shop`, with every series the default Deployment queries read
 * (cAdvisor CPU and memory, kube-state-metrics restarts and ownership, request counters and
 * a latency histogram), daily and weekly seasonality and noise. In front of Prometheus a
 * counting proxy (this process), in front of the backend the sidecar with every check on;
 * requests as the extension sends them (cookie token, application headers), for each range
 * it offers:
 * - cold: a fresh backend, its JIT warmed by one open of `warmup` (same range), then one open
 *   of `web`, the clock 10, 20, … minutes before the end of the data, one per sample;
 * - warm: right after each cold open, opens of `web` with the clock 30 s, 60 s, … later (the
 *   same person reopening the tab). The extension ends a range on its step, so a reopen
 *   within the same step is the same request.
 * Measured per range and phase: latency at the client, Prometheus queries and samples per
 * open (counted by the proxy; the query count checked against Prometheus's own counter),
 * the backend's CPU per open, and every status. "Needed" samples are what the chart draws
 * plus the seasonal history the detector needs (backends/anomaly-detection/README.md,
 * "History"), computed here from the documented ranges, not from the backend's plan.
 */
import { spawnSync } from 'child_process';
import http from 'http';
import type { AddressInfo } from 'net';
import { gunzipSync } from 'zlib';
import { Prng } from '../../backends/anomaly-detection/src/eval/prng';
import {
  HISTORY_WARM_UP_SECONDS,
  SEASONAL_LAGS_SECONDS,
  WEEKLY_PATTERN_LAGS_SECONDS,
} from '../../backends/anomaly-detection/src/detector/parameters';
import {
  DEFAULT_STEP_SECONDS,
  RECENT_HISTORY_SECONDS,
} from '../../backends/anomaly-detection/src/service/plan-queries';
import { DEFAULT_QUERIES } from '../../backends/anomaly-detection/src/sources/metric-queries';
import { AnomalyBackendProcess } from '../../test/helpers/anomaly-backend-process';
import { signLocalToken } from '../../test/helpers/local-tokens';
import { cpuSeconds } from '../../test/helpers/processes';
import { hasPrometheus, PrometheusProcess } from '../../test/helpers/prometheus-process';
import { SidecarProcess } from '../../test/helpers/sidecar-process';
import { runCleanups } from './interrupt';
import { fmt, percentile, table } from './report';
import { APP_HEADERS, sidecarConfig, startBenchArgoCD, TWO_LINE_POLICY } from './sidecar-setup';

/** Most cold samples or warm opens an environment variable may ask for: the section stays bounded. */
const MAX_COUNT = 50;

const DAY = 86400;
/**
 * Days of backfilled data. The 7d range's oldest history starts 14.5 days before its
 * `from`, 21.5 days before its `to` (README.md, "History"), and the cold samples end up to
 * an hour before the end of the data: with fewer days, the oldest lag of the 24h and 7d
 * opens would be partly missing, those opens would fetch fewer samples than they need, and
 * their ratio would look better than it is (15 days gave 0.70x for 7d).
 */
const DATA_DAYS = 22;
/** Spacing of the backfilled samples: the backend's default step. */
const DATA_STEP = DEFAULT_STEP_SECONDS;
/** Cold sample k opens the tab this many seconds × k before the end of the data (k = 1, 2, …). */
const COLD_SPACING_SECONDS = 600;
/** Time between warm opens: a person reopening the tab a little later. */
const WARM_SPACING_SECONDS = 30;
/** Longest the client waits for one open (the sidecar's responseTimeout is 60 s). */
const OPEN_TIMEOUT_MS = 90_000;

/** The ranges the extension offers (extension/src/model/time-range.ts, TIME_RANGES). */
const RANGES = [
  { id: '1h', seconds: 3600 },
  { id: '6h', seconds: 6 * 3600 },
  { id: '24h', seconds: DAY },
  { id: '7d', seconds: 7 * DAY },
] as const;
type RangeId = (typeof RANGES)[number]['id'];

/**
 * The range the extension asks for when the tab is opened at `nowSeconds`: restates
 * `timeRangeEndingAt` in extension/src/model/time-range.ts, which this build cannot import.
 * The step gives about 240 points, a multiple of 15 s and at least 15 s (15, 90, 360 and
 * 2520 s for 1h, 6h, 24h and 7d); `to` is the last multiple of the step at or before now.
 */
export function extensionRange(
  rangeSeconds: number,
  nowSeconds: number,
): { from: number; to: number; step: number } {
  const step = Math.max(15, Math.ceil(rangeSeconds / 240 / 15) * 15);
  const to = Math.floor(nowSeconds / step) * step;
  return { from: to - rangeSeconds, to, step };
}

export const TAB_BUDGET = {
  /** p95 of a first open (fresh backend), milliseconds, for the ranges that have one. */
  coldP95Ms: { '24h': 500, '7d': 1500 } as Partial<Record<RangeId, number>>,
  /** p95 of a second open within a minute, every range. */
  warmP95Ms: 100,
  /** Samples fetched from Prometheus per open, against the samples needed (worst open). */
  samplesVsNeeded: 2.0,
};

/** The lags the detector compares with: 1, 2, 3 days and 1, 2 weeks (README.md, "History"). */
const HISTORY_LAGS = [...new Set([...SEASONAL_LAGS_SECONDS, ...WEEKLY_PATTERN_LAGS_SECONDS])];

/**
 * Samples one open needs, by the detector's documented method (README.md, "History" and
 * "Method"; detector/parameters.ts): per metric, the points at `step` (on the chart's grid,
 * `from + k·step`) in the union of `[from − RECENT_HISTORY, to]` and, for each lag L,
 * `[from − L − HISTORY_WARM_UP, to − L]`; times the metrics; plus 1 for the instant query
 * that checks the ownership series.
 */
export function neededSamples(from: number, to: number, step: number, metrics: number): number {
  const intervals: Array<[number, number]> = [[from - RECENT_HISTORY_SECONDS, to]];
  for (const lag of HISTORY_LAGS) intervals.push([from - lag - HISTORY_WARM_UP_SECONDS, to - lag]);
  intervals.sort((a, b) => a[0] - b[0]);
  const union: Array<[number, number]> = [];
  for (const [start, end] of intervals) {
    const last = union[union.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else union.push([start, end]);
  }
  let points = 0;
  for (const [start, end] of union) {
    points += Math.floor((end - from) / step) - Math.ceil((start - from) / step) + 1;
  }
  return points * metrics + 1;
}

// ---------------------------------------------------------------------------------------
// The data

interface Workload {
  name: string;
  replicaSet: string;
  pods: string[];
  /** Traffic and CPU relative to `web`. */
  scale: number;
}

const NAMESPACE = 'shop';
const WORKLOADS: Workload[] = [
  {
    name: 'web',
    replicaSet: 'web-5d8c7b9f4',
    pods: ['web-5d8c7b9f4-2xkqp', 'web-5d8c7b9f4-7fzmn', 'web-5d8c7b9f4-c9lwr'],
    scale: 1,
  },
  {
    name: 'warmup',
    replicaSet: 'warmup-6c4b8d7f9',
    pods: ['warmup-6c4b8d7f9-h3jvd', 'warmup-6c4b8d7f9-q8ptx'],
    scale: 0.6,
  },
];
/** Upper bounds of the latency histogram's buckets (seconds). */
const LATENCY_BUCKETS = ['0.025', '0.05', '0.1', '0.25', '0.5', '1', '+Inf'];

/**
 * Load relative to the daily mean: a daily cycle (quietest at 00:00 UTC, busiest at 12:00,
 * ±35 %), a quarter less at weekends.
 */
function load(t: number): number {
  const day = new Date(t * 1000).getUTCDay();
  const weekend = day === 0 || day === 6 ? 0.75 : 1;
  return weekend * (1 + 0.35 * Math.sin((2 * Math.PI * (t - 6 * 3600)) / DAY));
}

/** One pod's values at each timestamp of the data (counters already cumulative). */
interface PodSeries {
  namespace: string;
  pod: string;
  cpuSeconds: Float64Array;
  memoryBytes: Float64Array;
  restarts: Float64Array;
  requestsOk: Float64Array;
  requestsError: Float64Array;
  /** Cumulative count per bucket of LATENCY_BUCKETS, bucket-major. */
  buckets: Float64Array[];
}

function podSeries(
  namespace: string,
  pod: string,
  scale: number,
  times: number[],
  seed: number,
  restartsAt: number[],
): PodSeries {
  const n = times.length;
  const prng = new Prng(seed);
  const s: PodSeries = {
    namespace,
    pod,
    cpuSeconds: new Float64Array(n),
    memoryBytes: new Float64Array(n),
    restarts: new Float64Array(n),
    requestsOk: new Float64Array(n),
    requestsError: new Float64Array(n),
    buckets: LATENCY_BUCKETS.map(() => new Float64Array(n)),
  };
  let cpu = 1000 * prng.next();
  let ok = Math.floor(1e6 * prng.next());
  let errors = 0;
  let okFraction = 0;
  let errorFraction = 0;
  let restarts = 0;
  const bucketTotals = LATENCY_BUCKETS.map(() => 0);
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const l = load(t);
    const noise = () => 1 + 0.05 * prng.normal();
    // CPU: 0.25 cores at the daily mean, following the load.
    cpu += 0.25 * scale * l * noise() * DATA_STEP;
    s.cpuSeconds[i] = cpu;
    // Memory: 300 MB, a little more under load.
    s.memoryBytes[i] = Math.round(3e8 * (1 + 0.1 * (l - 1)) * (1 + 0.01 * prng.normal()));
    if (restartsAt.some((r) => r > t - DATA_STEP && r <= t)) restarts++;
    s.restarts[i] = restarts;
    // Requests: 15/s at the daily mean, 0.2 % of them errors; whole counts.
    okFraction += Math.max(0, 15 * scale * l * noise() * DATA_STEP);
    errorFraction += Math.max(0, 0.03 * scale * l * noise() * DATA_STEP);
    const newOk = Math.floor(okFraction);
    const newErrors = Math.floor(errorFraction);
    okFraction -= newOk;
    errorFraction -= newErrors;
    ok += newOk;
    errors += newErrors;
    s.requestsOk[i] = ok;
    s.requestsError[i] = errors;
    // Latency: exponential, mean 40 ms, slower under load; cumulative buckets.
    const served = newOk + newErrors;
    const mean = 0.04 * (0.7 + 0.3 * l) * noise();
    LATENCY_BUCKETS.forEach((le, b) => {
      const below = le === '+Inf' ? 1 : 1 - Math.exp(-Number(le) / mean);
      bucketTotals[b] += Math.round(served * below);
      s.buckets[b][i] = bucketTotals[b];
    });
  }
  return s;
}

/**
 * The OpenMetrics text for promtool, in pieces (one per series): every series the default
 * Deployment queries read (metric-queries.ts, DEFAULT_QUERIES.Deployment and its ownership
 * join), for each pod of WORKLOADS, every DATA_STEP seconds over `[start, end]`.
 */
export function* openMetrics(start: number, end: number): Generator<string> {
  const times: number[] = [];
  for (let t = start; t <= end; t += DATA_STEP) times.push(t);
  const pods = WORKLOADS.flatMap((w, wi) =>
    w.pods.map((pod, pi) =>
      podSeries(
        NAMESPACE,
        pod,
        w.scale,
        times,
        1 + wi * 100 + pi,
        // Two restarts of web's first pod, 11 and 4.3 days before the end of the data.
        w.name === 'web' && pi === 0 ? [end - 11 * DAY, end - 4.3 * DAY] : [],
      ),
    ),
  );
  const series = function* (
    name: string,
    labels: (p: PodSeries) => string,
    values: (p: PodSeries) => Float64Array,
    digits: number,
  ): Generator<string> {
    for (const p of pods) {
      const head = `${name}{${labels(p)}} `;
      const v = values(p);
      const lines = new Array<string>(times.length);
      for (let i = 0; i < times.length; i++)
        lines[i] = `${head}${v[i].toFixed(digits)} ${times[i]}`;
      yield lines.join('\n') + '\n';
    }
  };
  const container = (p: PodSeries) => `namespace="${p.namespace}",pod="${p.pod}",container="app"`;
  const pod = (p: PodSeries) => `namespace="${p.namespace}",pod="${p.pod}"`;
  yield '# TYPE container_cpu_usage_seconds_total counter\n';
  yield* series('container_cpu_usage_seconds_total', container, (p) => p.cpuSeconds, 3);
  yield '# TYPE container_memory_working_set_bytes gauge\n';
  yield* series('container_memory_working_set_bytes', container, (p) => p.memoryBytes, 0);
  yield '# TYPE kube_pod_container_status_restarts_total counter\n';
  yield* series('kube_pod_container_status_restarts_total', container, (p) => p.restarts, 0);
  yield '# TYPE http_requests_total counter\n';
  yield* series(
    'http_requests_total',
    (p) => `${pod(p)},code="200"`,
    (p) => p.requestsOk,
    0,
  );
  yield* series(
    'http_requests_total',
    (p) => `${pod(p)},code="500"`,
    (p) => p.requestsError,
    0,
  );
  yield '# TYPE http_request_duration_seconds histogram\n';
  for (let b = 0; b < LATENCY_BUCKETS.length; b++) {
    yield* series(
      'http_request_duration_seconds_bucket',
      (p) => `${pod(p)},le="${LATENCY_BUCKETS[b]}"`,
      (p) => p.buckets[b],
      0,
    );
  }
  // kube-state-metrics: each pod owned by its Deployment's one ReplicaSet, the whole time.
  const ones = (labels: string) => {
    const lines = times.map((t) => `${labels} 1 ${t}`);
    return lines.join('\n') + '\n';
  };
  yield '# TYPE kube_pod_owner gauge\n';
  for (const w of WORKLOADS) {
    for (const p of w.pods) {
      yield ones(
        `kube_pod_owner{namespace="${NAMESPACE}",pod="${p}",owner_kind="ReplicaSet",owner_name="${w.replicaSet}",owner_is_controller="true"}`,
      );
    }
  }
  yield '# TYPE kube_replicaset_owner gauge\n';
  for (const w of WORKLOADS) {
    yield ones(
      `kube_replicaset_owner{namespace="${NAMESPACE}",replicaset="${w.replicaSet}",owner_kind="Deployment",owner_name="${w.name}",owner_is_controller="true"}`,
    );
  }
  yield '# EOF\n';
}

// ---------------------------------------------------------------------------------------
// The counting proxy

const QUERY_PATHS = new Set(['/api/v1/query_range', '/api/v1/query']);

/** Totals since the proxy started (take differences). */
interface ProxyCounts {
  /** Requests to /api/v1/query_range and /api/v1/query. */
  queries: number;
  /** Samples in their answers: values per matrix series, 1 per vector element. */
  samples: number;
  /**
   * Of those, samples timestamped after the `after` given to {@link CountingProxy.counts}
   * when they were counted (the open's `to`).
   */
  samplesAfter: number;
  /** Query answers that were not a JSON success, or could not be forwarded. */
  failed: number;
}

/**
 * Between the backend and Prometheus: forwards every request unchanged and streams the
 * answer back unchanged, counting requests by path. The answers to queries are kept (their
 * chunks, as they passed) and only parsed in {@link counts}, between two opens, so counting
 * never delays an answer.
 */
class CountingProxy {
  readonly byPath = new Map<string, number>();
  private readonly totals: ProxyCounts = { queries: 0, samples: 0, samplesAfter: 0, failed: 0 };
  private pending: Array<{ chunks: Buffer[]; encoding?: string; status: number }> = [];
  private inFlight = 0;
  private server?: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  url = '';

  constructor(private readonly target: URL) {}

  async start(): Promise<this> {
    const server = http.createServer((req, res) => this.forward(req, res));
    server.keepAliveTimeout = 60_000;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
    const isQuery = QUERY_PATHS.has(path);
    if (isQuery) this.totals.queries++;
    this.inFlight++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.inFlight--;
      }
    };
    const upstream = http.request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
        const chunks: Buffer[] = [];
        if (isQuery) answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          if (isQuery) {
            this.pending.push({
              chunks,
              encoding: answer.headers['content-encoding'],
              status: answer.statusCode ?? 0,
            });
          }
          finish();
        });
        answer.on('error', () => {
          if (isQuery) this.totals.failed++;
          finish();
          res.destroy();
        });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (isQuery) this.totals.failed++;
      finish();
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  }

  /**
   * Waits (a bounded time) until no request is in flight, then counts the answers kept;
   * samples after `after` (unix seconds) are also counted apart.
   */
  async counts(after = Infinity): Promise<ProxyCounts> {
    for (let i = 0; i < 200 && this.inFlight > 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const { chunks, encoding, status } of this.pending.splice(0)) {
      try {
        let body = Buffer.concat(chunks);
        if (encoding === 'gzip') body = gunzipSync(body);
        const parsed = JSON.parse(body.toString('utf8')) as {
          status?: string;
          data?: { resultType?: string; result?: unknown };
        };
        if (status !== 200 || parsed.status !== 'success') {
          this.totals.failed++;
          continue;
        }
        const { samples, samplesAfter } = samplesIn(parsed.data, after);
        this.totals.samples += samples;
        this.totals.samplesAfter += samplesAfter;
      } catch {
        this.totals.failed++;
      }
    }
    return { ...this.totals };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.agent.destroy();
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

type SampleValue = [number, string];

/**
 * Samples in a query answer's `data`: values (and native histograms) per matrix series,
 * 1 per vector element; and how many of them are timestamped after `after`.
 */
function samplesIn(
  data: { resultType?: string; result?: unknown } | undefined,
  after: number,
): { samples: number; samplesAfter: number } {
  let samples = 0;
  let samplesAfter = 0;
  const add = (point: unknown) => {
    samples++;
    if (Array.isArray(point) && Number(point[0]) > after) samplesAfter++;
  };
  if (data?.resultType === 'matrix' && Array.isArray(data.result)) {
    for (const series of data.result as Array<{
      values?: SampleValue[];
      histograms?: SampleValue[];
    }>) {
      for (const point of series.values ?? []) add(point);
      for (const point of series.histograms ?? []) add(point);
    }
  } else if (data?.resultType === 'vector' && Array.isArray(data.result)) {
    for (const element of data.result as Array<{ value?: SampleValue; histogram?: SampleValue }>) {
      add(element.value ?? element.histogram);
    }
  } else if (data?.resultType === 'scalar' || data?.resultType === 'string') {
    add(data.result);
  }
  return { samples, samplesAfter };
}

/** Prometheus's own count of the query requests it served (`prometheus_http_requests_total`). */
async function prometheusQueryCount(prometheusUrl: string): Promise<number> {
  const text = await (await fetch(`${prometheusUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('prometheus_http_requests_total{')) continue;
    const handler = /handler="([^"]*)"/.exec(line)?.[1];
    if (handler && QUERY_PATHS.has(handler)) total += Number(line.slice(line.lastIndexOf(' ')));
  }
  return total;
}

// ---------------------------------------------------------------------------------------
// The measurement

interface Open {
  from: number;
  to: number;
  status: number;
  ms: number;
  queries: number;
  samples: number;
  /** Samples timestamped after `to`: in the bench's data, but not yet in production. */
  samplesAfterTo: number;
  needed: number;
  cpuSeconds: number;
  /** `series.length` of the answer (0 when it was not a 200 with JSON). */
  metrics: number;
  podSelection?: string;
}

/** One GET through the sidecar, timed until the last byte of the answer. */
function timedGet(
  url: string,
  headers: http.OutgoingHttpHeaders,
  agent: http.Agent,
): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ms: performance.now() - started,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', () => resolve({ status: 0, ms: performance.now() - started, body: '' }));
    });
    req.setTimeout(OPEN_TIMEOUT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, body: '' }));
  });
}

/** A mean count: one decimal below 100 (a warm open may fetch 1 sample in 3 opens). */
const count = (n: number) => fmt(n, n < 100 ? 1 : 0);

const mean = (values: number[]) =>
  values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;

function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) {
    throw new Error(
      `${name} must be a whole number from 1 to ${MAX_COUNT}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

interface RangeResults {
  range: RangeId;
  step: number;
  cold: Open[];
  warm: Open[];
}

/** The table's rows, the budget lines, and what failed, for each range and phase. */
function summarize(results: RangeResults[]): {
  rows: string[][];
  budgetLines: Array<[string, string, string, boolean]>;
  failures: string[];
} {
  const failures: string[] = [];
  const expectedMetrics = DEFAULT_QUERIES.Deployment.length;
  const latencyLines: Array<[string, string, string, boolean]> = [];
  const sampleLines: Array<[string, string, string, boolean]> = [];
  const rows: string[][] = [];
  for (const r of results) {
    for (const phase of ['cold', 'warm'] as const) {
      const opens = r[phase];
      const ms = opens.map((o) => o.ms);
      const worstRatio = Math.max(...opens.map((o) => o.samples / o.needed));
      const non200 = opens.filter((o) => o.status !== 200).length;
      rows.push([
        r.range,
        `${r.step} s`,
        phase,
        String(opens.length),
        fmt(percentile(ms, 0.5), 1),
        fmt(percentile(ms, 0.95), 1),
        fmt(mean(opens.map((o) => o.queries)), 1),
        count(mean(opens.map((o) => o.samples))),
        count(mean(opens.map((o) => o.samplesAfterTo))),
        fmt(mean(opens.map((o) => o.needed))),
        `${fmt(mean(opens.map((o) => o.samples)) / mean(opens.map((o) => o.needed)), 2)}x`,
        `${fmt(worstRatio, 2)}x`,
        fmt((mean(opens.map((o) => o.cpuSeconds)) || 0) * 1000, 1),
        String(non200),
      ]);
      const where = `${r.range} ${phase}`;
      if (non200 > 0) {
        const statuses = [...new Set(opens.map((o) => o.status))].join(', ');
        failures.push(`Anomalies tab ${where}: ${non200} opens did not get 200 (${statuses})`);
      }
      const short = opens.filter((o) => o.status === 200 && o.metrics !== expectedMetrics);
      if (short.length > 0) {
        failures.push(
          `Anomalies tab ${where}: ${short.length} answers had ${[...new Set(short.map((o) => o.metrics))].join(', ')} ` +
            `series, not the ${expectedMetrics} default metrics (the bench's data should give every one)`,
        );
      }
      const otherSelection = opens.filter(
        (o) => o.status === 200 && o.podSelection !== 'kube-state-metrics',
      );
      if (otherSelection.length > 0) {
        failures.push(
          `Anomalies tab ${where}: ${otherSelection.length} answers did not select the pods by ownership ` +
            `(podSelection ${[...new Set(otherSelection.map((o) => o.podSelection))].join(', ')})`,
        );
      }
      const p95 = percentile(ms, 0.95);
      const limit = phase === 'cold' ? TAB_BUDGET.coldP95Ms[r.range] : TAB_BUDGET.warmP95Ms;
      if (limit !== undefined) {
        const pass = p95 <= limit;
        latencyLines.push([`${where} p95`, `${fmt(p95, 1)} ms`, `<= ${limit} ms`, pass]);
        if (!pass) {
          failures.push(`Anomalies tab ${where}: p95 ${fmt(p95, 1)} ms (budget <= ${limit} ms)`);
        }
      }
      const pass = worstRatio <= TAB_BUDGET.samplesVsNeeded;
      sampleLines.push([
        `${where}: samples per open vs needed (worst open)`,
        `${fmt(worstRatio, 2)}x`,
        `<= ${TAB_BUDGET.samplesVsNeeded}x`,
        pass,
      ]);
      if (!pass) {
        failures.push(
          `Anomalies tab ${where}: an open fetched ${fmt(worstRatio, 2)}x the samples it needs ` +
            `(budget <= ${TAB_BUDGET.samplesVsNeeded}x)`,
        );
      }
    }
  }
  return { rows, budgetLines: [...latencyLines, ...sampleLines], failures };
}

export interface TabReport {
  text: string;
  failures: string[];
}

/**
 * The whole section: data, Prometheus, proxy, backend and sidecar, the opens, the table and
 * the budgets. What it starts is also pushed onto `cleanups` (a signal stops it too).
 */
export async function benchAnomaliesTab(
  cleanups: Array<() => Promise<unknown> | unknown>,
): Promise<TabReport> {
  const title = '\nThe Anomalies tab: opening a Deployment through the sidecar';
  if (!hasPrometheus()) {
    const note = 'skipped: prometheus/promtool not installed (Debian: prometheus)';
    return {
      text: `${title}\n${note}`,
      failures: process.env.CI === 'true' ? [`Anomalies tab ${note}; CI must run it`] : [],
    };
  }
  const quick = process.env.BENCH_QUICK === '1';
  /** Cold samples per range, each on a fresh backend. */
  const coldSamples = countFromEnv('BENCH_TAB_COLD', quick ? 3 : 7);
  /** Warm opens after each cold one. */
  const warmOpens = countFromEnv('BENCH_TAB_WARM', quick ? 3 : 5);
  const failures: string[] = [];
  const notes: string[] = [];
  const mine: Array<() => Promise<unknown> | unknown> = [];
  cleanups.push(() => runCleanups(mine.splice(0)));
  const say = (line: string) => process.stderr.write(`  tab: ${line}\n`);
  try {
    // Data ending at a whole hour at least 3 hours ago (backfilled samples must be in the
    // past, and Prometheus's head block must not hold them).
    const dataEnd = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3 * 3600;
    const dataStart = dataEnd - DATA_DAYS * DAY;
    let generatedBytes = 0;
    let generateMs = 0;
    const pieces = function* () {
      const started = performance.now();
      for (const piece of openMetrics(dataStart, dataEnd)) {
        generatedBytes += piece.length;
        yield piece;
      }
      generateMs = performance.now() - started;
    };
    say('generating the OpenMetrics input and backfilling with promtool');
    // Blocks of 20 days: promtool's default 2-hour blocks mean one pass over the whole input
    // per block (264 for 22 days), and Prometheus compacting them while it is measured.
    const prometheus = new PrometheusProcess(pieces(), { maxBlockDuration: '500h' });
    mine.push(() => prometheus.stop());
    await prometheus.start();
    const version =
      /version (\S+)/.exec(
        spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).stdout,
      )?.[1] ?? '?';
    say(
      `${fmt(generatedBytes / 1024 / 1024)} MiB generated and written in ${fmt(generateMs / 1000, 1)} s, ` +
        `backfill ${fmt(prometheus.backfillMs / 1000, 1)} s`,
    );

    const proxy = await new CountingProxy(new URL(prometheus.url)).start();
    mine.push(() => proxy.stop());
    const backend = new AnomalyBackendProcess({
      args: ['--prometheus', proxy.url],
      discardLogAfterStart: true,
    });
    mine.push(() => backend.stop());
    await backend.start();

    const argocd = await startBenchArgoCD();
    mine.push(() => argocd.stop());
    const config = sidecarConfig(new Map(), TWO_LINE_POLICY, { anomalyBackendUrl: backend.url });
    mine.push(() => config.remove());
    const sidecar = new SidecarProcess(
      [...config.flags, ...argocd.sidecarFlags()],
      {},
      { discardOutputAfterStart: true },
    );
    mine.push(() => sidecar.stop());
    await sidecar.start();

    const headers = {
      Cookie: `argocd.token=${signLocalToken({ sub: 'alice:login' })}`,
      ...APP_HEADERS,
    };
    // One connection, kept alive, as a browser's to Argo CD.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    mine.push(() => agent.destroy());
    const promQueriesBefore = await prometheusQueryCount(prometheus.url);
    const otherFailures = new Set<string>();

    /** One open of Deployment `name`, with what it cost. */
    const open = async (
      name: string,
      { from, to, step }: { from: number; to: number; step: number },
    ): Promise<Open> => {
      const pid = backend.pid;
      const before = await proxy.counts(to);
      const cpuBefore = cpuSeconds([pid]);
      const url =
        `${sidecar.url}/extensions/anomaly/api/v1/anomalies?group=apps&kind=Deployment` +
        `&namespace=${NAMESPACE}&name=${name}&from=${from}&to=${to}&step=${step}`;
      const { status, ms, body } = await timedGet(url, headers, agent);
      const after = await proxy.counts(to);
      const cpuAfter = cpuSeconds([pid]);
      let metrics = 0;
      let podSelection: string | undefined;
      if (status === 200) {
        try {
          const answer = JSON.parse(body) as { series?: unknown[]; podSelection?: string };
          metrics = answer.series?.length ?? 0;
          podSelection = answer.podSelection;
        } catch {
          otherFailures.add(`an open of ${name} answered 200 with a body that is not JSON`);
        }
      }
      if (after.failed > before.failed) {
        otherFailures.add('Prometheus refused or failed a query (counting proxy)');
      }
      return {
        from,
        to,
        status,
        ms,
        queries: after.queries - before.queries,
        samples: after.samples - before.samples,
        samplesAfterTo: after.samplesAfter - before.samplesAfter,
        // Without an answer, what the default metrics would have needed.
        needed: neededSamples(from, to, step, metrics || DEFAULT_QUERIES.Deployment.length),
        cpuSeconds: cpuAfter - cpuBefore,
        metrics,
        podSelection,
      };
    };

    const results: RangeResults[] = [];
    let warmupFailures = 0;
    const startedAt = performance.now();
    for (const range of RANGES) {
      const { step } = extensionRange(range.seconds, dataEnd);
      const row = { range: range.id, step, cold: [] as Open[], warm: [] as Open[] };
      results.push(row);
      for (let k = 1; k <= coldSamples; k++) {
        say(`${range.id} (step ${step} s), cold sample ${k}/${coldSamples}`);
        const now = dataEnd - k * COLD_SPACING_SECONDS;
        // A fresh backend on the same port (the sidecar's URL stays valid).
        await backend.stop();
        await backend.start();
        const warmup = await open('warmup', extensionRange(range.seconds, now));
        if (warmup.status !== 200) warmupFailures++;
        row.cold.push(await open('web', extensionRange(range.seconds, now)));
        for (let j = 1; j <= warmOpens; j++) {
          const later = now + j * WARM_SPACING_SECONDS;
          row.warm.push(await open('web', extensionRange(range.seconds, later)));
        }
      }
    }
    const measuredS = (performance.now() - startedAt) / 1000;
    await new Promise((r) => setTimeout(r, 200));
    const promQueries = (await prometheusQueryCount(prometheus.url)) - promQueriesBefore;
    const proxied = (await proxy.counts()).queries;

    const summary = summarize(results);
    failures.push(...summary.failures);
    if (warmupFailures > 0) {
      failures.push(
        `Anomalies tab: ${warmupFailures} JIT warm-up opens (of warmup) did not get 200`,
      );
    }
    failures.push(...[...otherFailures].map((f) => `Anomalies tab: ${f}`));
    if (promQueries !== proxied) {
      failures.push(
        `Anomalies tab: the counting proxy saw ${proxied} queries, Prometheus counted ${promQueries} ` +
          '(prometheus_http_requests_total, /api/v1/query_range + /api/v1/query)',
      );
    }
    const paths = [...proxy.byPath.entries()].map(([path, n]) => `${path} ${n}`).join(', ');
    notes.push(
      `Prometheus requests through the counting proxy: ${paths}; Prometheus's own counter: ${promQueries} ` +
        `queries (${promQueries === proxied ? 'agrees' : 'DISAGREES'}), warm-up opens included`,
    );
    notes.push(
      'backend CPU: user + system time of the backend process from /proc, in 10 ms ticks (a ' +
        `cold value rests on ${coldSamples} open${coldSamples === 1 ? '' : 's'}); latency: at the client, through the sidecar ` +
        'and the counting proxy (one more loopback hop per Prometheus query than in production)',
    );
    const repeats = results
      .map((r) => {
        // The cold open before each run of warm ones, then the warm ones in order.
        let same = 0;
        r.warm.forEach((o, i) => {
          const previous = i % warmOpens === 0 ? r.cold[i / warmOpens] : r.warm[i - 1];
          if (o.from === previous.from && o.to === previous.to) same++;
        });
        return `${r.range} ${same}/${r.warm.length}`;
      })
      .join(', ');
    notes.push(
      `warm opens that were the same request as the open before (same \`to\`, within one step): ${repeats}`,
    );
    notes.push(
      '"of which after to": samples timestamped after the open\'s `to`, which the bench\'s ' +
        'Prometheus has (its data runs on to the end, past the clock of every open) and a real ' +
        'one would not have yet; they are counted in samples/open and in the ratio',
    );
    notes.push(
      'p95 is nearest-rank: of fewer than 20 opens (the cold ones, unless BENCH_TAB_COLD is ' +
        'raised), the slowest',
    );

    const text =
      `${title} (Prometheus ${version} on a TSDB backfilled with promtool: ${DATA_DAYS} days at ${DATA_STEP} s, ` +
      `${fmt(generatedBytes / 1024 / 1024)} MiB of OpenMetrics, backfill ${fmt(prometheus.backfillMs / 1000, 1)} s; ` +
      `Deployment ${NAMESPACE}/web with 3 pods and every default metric; ` +
      `cold: a fresh backend warmed by one open of ${NAMESPACE}/warmup, ${coldSamples} samples per range, ` +
      `opened ${COLD_SPACING_SECONDS / 60}, ${(2 * COLD_SPACING_SECONDS) / 60}, … min before the end of the data; ` +
      `warm: ${warmOpens} opens after each, ${WARM_SPACING_SECONDS} s apart; ranges as the extension asks, ending on the step; ` +
      `measured in ${fmt(measuredS)} s)\n` +
      table(
        [
          'range',
          'step',
          'phase',
          'opens',
          'p50 ms',
          'p95 ms',
          'queries/open',
          'samples/open',
          'of which after to',
          'needed/open',
          'samples ratio',
          'worst open',
          'backend CPU ms/open',
          'non-200',
        ],
        summary.rows,
      ) +
      '\n\n' +
      table(
        ['budget', 'measured', 'limit', ''],
        summary.budgetLines.map(([what, measured, limit, pass]) => [
          what,
          measured,
          limit,
          pass ? 'pass' : 'MISS',
        ]),
      ) +
      '\n' +
      notes.map((n) => `note: ${n}`).join('\n');
    return { text, failures };
  } finally {
    await runCleanups(mine.splice(0));
  }
}
