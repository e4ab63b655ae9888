/**
 * Words for what the detector found: one sentence per anomalous window ("CPU 1.6× above
 * usual since 05:02 (expected 0.42 cores, saw 0.68 cores)"), the header's state of "now"
 * versus "somewhere in the range", and the sync each window followed.
 */
import type { AnomaliesResponse, AnomalyWindow, MetricSeries, WindowDriver } from '../api/types';
import { formatTime } from './format';
import { syncBefore, type Sync, type SyncRelation } from './syncs';
import { formatQuantity } from './units';

/** A window's score from which a point counts as anomalous (the detector's ALERT_SCORE). */
export const ALERT_SCORE = 5;

export interface WindowExplanation {
  window: AnomalyWindow;
  /** The series of the window's own metric, when the response has it. */
  series?: MetricSeries;
  driver?: WindowDriver;
  /** The window still runs at the end of the range. */
  ongoing: boolean;
  /** "CPU 1.6× above usual since 05:02". */
  headline: string;
  /** "expected 0.42 cores, saw 0.68 cores"; empty without a driver. */
  detail: string;
  /** "began 4 min after sync to abc1234"; empty when no sync is near. */
  syncNote: string;
  sync?: SyncRelation;
}

/** "1.6× above usual", "2.5× below usual", or "above usual" when the factor is unknown. */
export function describeChange(driver: WindowDriver): string {
  const { factor, direction } = driver;
  const side = direction === 'up' ? 'above' : 'below';
  if (factor === null || !(factor > 0) || !Number.isFinite(factor)) return `${side} usual`;
  const ratio = direction === 'up' ? factor : 1 / factor;
  if (ratio < 1.05) return `slightly ${side} usual`;
  return `${ratio >= 10 ? Math.round(ratio) : Number(ratio.toPrecision(2))}× ${side} usual`;
}

function isOngoing(window: AnomalyWindow, data: AnomaliesResponse): boolean {
  return window.end >= data.range.to - data.range.step;
}

export function syncText(relation: SyncRelation | undefined): string {
  if (!relation) return '';
  const { sync, kind, minutes } = relation;
  if (sync.running) {
    return `began ${minutes} min after a sync to ${sync.revision} started (still running)`;
  }
  if (kind === 'during') return `began during the sync to ${sync.revision}`;
  return minutes === 0
    ? `began within a minute of the sync to ${sync.revision}`
    : `began ${minutes} min after sync to ${sync.revision}`;
}

/** The windows of a response, newest first, each in words. */
export function explainWindows(
  data: AnomaliesResponse,
  syncs: readonly Sync[],
): WindowExplanation[] {
  const span = data.range.to - data.range.from;
  return [...data.windows]
    .sort((a, b) => b.start - a.start)
    .map((window) => {
      const series = data.series.find((s) => s.metric === window.metric);
      const driver = window.drivers?.find((d) => d.metric === window.metric) ?? window.drivers?.[0];
      const label = series?.label ?? window.metric;
      const unit = series?.unit ?? '';
      const ongoing = isOngoing(window, data);
      const when = ongoing
        ? `since ${formatTime(window.start, span)}`
        : `${formatTime(window.start, span)}–${formatTime(window.end, span)}`;
      const headline = driver
        ? `${label} ${describeChange(driver)} ${when}`
        : `${label} anomalous ${when} (score ${window.score.toFixed(1)})`;
      const detail = driver
        ? `expected ${formatQuantity(driver.expected, unit)}, saw ${formatQuantity(driver.observed, unit)}`
        : '';
      const sync = syncBefore(window.start, syncs);
      return { window, series, driver, ongoing, headline, detail, syncNote: syncText(sync), sync };
    });
}

export type HeaderState =
  | { kind: 'unknown' }
  | { kind: 'anomalous-now'; since: number }
  | { kind: 'normal-now'; windows: number }
  | { kind: 'normal'; windows: 0 };

/**
 * The state of now, kept apart from the state of the range: "anomalous now" only when a
 * window runs at the end of the range or the latest score reaches ALERT_SCORE.
 */
export function headerState(data: AnomaliesResponse): HeaderState {
  if (data.summary.state === 'unknown') return { kind: 'unknown' };
  const ongoing = data.windows.filter((w) => isOngoing(w, data));
  if (ongoing.length > 0) {
    return { kind: 'anomalous-now', since: Math.min(...ongoing.map((w) => w.start)) };
  }
  if ((data.summary.score ?? 0) >= ALERT_SCORE) {
    return { kind: 'anomalous-now', since: data.range.to };
  }
  return data.windows.length > 0
    ? { kind: 'normal-now', windows: data.windows.length }
    : { kind: 'normal', windows: 0 };
}
