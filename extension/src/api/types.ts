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

export interface MetricSeries {
  metric: string;
  label: string;
  unit: string;
  points: Point[];
}

export interface AnomalyWindow {
  start: number;
  end: number;
  score: number;
  metric: string;
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

/** The JSON error body of the sidecar and the backend. */
export interface ErrorBody {
  error: string;
  status: number;
  /** On a 403 for a missing invoke permission, e.g. `extensions, invoke, anomaly`. */
  requiredPermission?: string;
  /** On a 403: the policy line that would grant it. */
  policy?: string;
}
