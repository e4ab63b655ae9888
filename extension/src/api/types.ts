/** Response types of `GET /api/v1/anomalies` (docs/anomaly-api.md). */

/** `[unixSeconds, value]`; `null` is a gap (no data), never a zero. */
export type Point = [number, number | null];

export interface ResourceRef {
  /** The API group; `''` for the core group. */
  group: string;
  kind: string;
  /** `''` for cluster-scoped resources. */
  namespace: string;
  name: string;
}

export type AnomalyState = 'normal' | 'anomalous' | 'unknown';

export interface AnomalySummary {
  state: AnomalyState;
  /** Latest score, 0–10. */
  score: number | null;
  /** Highest score in the range, 0–10. */
  maxScore: number | null;
  anomalousWindows: number;
}

/** `[unixSeconds, low, high]`: the values a point could take without scoring 5. */
export type BandPoint = [number, number | null, number | null];

export type Baseline = 'seasonal' | 'trend';

export interface SeriesHistory {
  /** First timestamp with data of everything read for the metric; `null`: none. */
  since: number | null;
  /** `from − since`. */
  seconds: number;
  /** How many of the range's judged points each baseline judged. */
  baselines: Partial<Record<Baseline, number>>;
}

/**
 * One metric. Everything after `points` came with the detector's explanations and is
 * optional: a backend of an earlier release sends only `metric`, `label`, `unit`, `points`.
 */
export interface MetricSeries {
  metric: string;
  label: string;
  unit: string;
  points: Point[];
  /** The PromQL the series came from, rendered for this resource. */
  query?: string;
  /** The metric's own scores, same timestamps as `points`. */
  scores?: Point[];
  /** What each point was judged against, in the metric's unit. */
  expected?: Point[];
  band?: BandPoint[];
  history?: SeriesHistory;
  /** The same query and range in the operator's Prometheus or Grafana (http or https). */
  exploreUrl?: string;
}

/** A metric behind a window, at its peak. */
export interface WindowDriver {
  metric: string;
  score: number;
  peak: number;
  direction: 'up' | 'down';
  observed: number | null;
  expected: number | null;
  low: number | null;
  high: number | null;
  /** `observed ÷ expected`; `null` when `expected` is 0 or unknown. */
  factor: number | null;
  baseline: Baseline | null;
  query?: string;
}

export interface AnomalyWindow {
  start: number;
  end: number;
  score: number;
  metric: string;
  /** `drivers[0].metric === metric`; absent from earlier backends. */
  drivers?: WindowDriver[];
}

export interface AnomaliesResponse {
  resource: ResourceRef;
  range: { from: number; to: number; step: number };
  /** `sample` when the backend runs on its bundled sample data. */
  source: 'prometheus' | 'sample';
  summary: AnomalySummary;
  series: MetricSeries[];
  scores: Point[];
  windows: AnomalyWindow[];
}

/** One workload of `GET /api/v1/anomalies/summary`. */
export interface WorkloadSummary {
  resource: ResourceRef;
  state: AnomalyState;
  /** Latest score, 0–10. */
  score: number;
  /** Highest score in the range, 0–10. */
  maxScore: number;
  anomalousWindows: number;
  /** The workload's strongest window in the range, and the metric that drove it. */
  worst: {
    start: number;
    end: number;
    score: number;
    metric: string;
    label: string;
    unit: string;
  } | null;
}

/** `GET /api/v1/anomalies/summary`: an application's workloads over one range. */
export interface SummaryResponse {
  range: { from: number; to: number; step: number };
  source: 'prometheus' | 'sample';
  summary: { state: AnomalyState; maxScore: number; anomalousWorkloads: number };
  /** In the order asked. */
  workloads: WorkloadSummary[];
}

/** The JSON error body of the sidecar and the backend. */
export interface ErrorBody {
  error: string;
  status: number;
  /** On a 403 for a missing invoke permission, e.g. `extensions, invoke, anomaly`. */
  requiredPermission?: string;
  /** On a 403: the policy line that would grant it. */
  policy?: string;
}
