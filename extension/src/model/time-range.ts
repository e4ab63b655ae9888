import type { TimeRange } from '../api/anomaly-client';

export type TimeRangeId = '1h' | '6h' | '24h' | '7d';

export interface TimeRangeOption {
  id: TimeRangeId;
  /** Short label on the selector. */
  label: string;
  /** What a screen reader says. */
  description: string;
  seconds: number;
}

export const TIME_RANGES: readonly TimeRangeOption[] = [
  { id: '1h', label: '1h', description: 'last hour', seconds: 3600 },
  { id: '6h', label: '6h', description: 'last 6 hours', seconds: 6 * 3600 },
  { id: '24h', label: '24h', description: 'last 24 hours', seconds: 24 * 3600 },
  { id: '7d', label: '7d', description: 'last 7 days', seconds: 7 * 24 * 3600 },
];

export const DEFAULT_TIME_RANGE: TimeRangeId = '6h';

/** About this many points per series: enough for the chart's width, cheap to send. */
export const TARGET_POINTS = 240;

/** Prometheus' usual scrape interval; a finer step only repeats samples. */
const MIN_STEP_SECONDS = 15;

export function timeRangeOption(id: TimeRangeId): TimeRangeOption {
  return TIME_RANGES.find((option) => option.id === id) ?? TIME_RANGES[0];
}

/**
 * The range `id` ending at the last multiple of its step at or before `nowSeconds`, with a
 * step that is a multiple of 15 s. Ending on the step's grid makes the tab opened again
 * within a step the same request (the backend reuses its report), and a later open asks
 * for the same points as the first plus new ones (the backend has the rest cached): the
 * newest point is at most a step old, 15 s for 1h and 42 min for 7d.
 */
export function timeRangeEndingAt(id: TimeRangeId, nowSeconds: number): Required<TimeRange> {
  const { seconds } = timeRangeOption(id);
  const rawStep = seconds / TARGET_POINTS;
  const step = Math.max(MIN_STEP_SECONDS, Math.ceil(rawStep / MIN_STEP_SECONDS) * MIN_STEP_SECONDS);
  const to = Math.floor(nowSeconds / step) * step;
  return { from: to - seconds, to, step };
}
