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

/**
 * One anomaly: windows whose spans overlap (one incident, seen in several metrics), led by
 * the strongest.
 */
export interface WindowExplanation {
  /** The strongest window of the anomaly. */
  window: AnomalyWindow;
  /** Every window of the anomaly, the strongest first. */
  windows: AnomalyWindow[];
  start: number;
  end: number;
  /** "Memory 2× above usual, Restarts above usual": the other metrics; empty for one. */
  also: string;
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

/** Windows whose spans overlap, as groups (oldest first; each group strongest first). */
export function groupWindows(windows: readonly AnomalyWindow[]): AnomalyWindow[][] {
  const groups: AnomalyWindow[][] = [];
  let end = -Infinity;
  for (const window of [...windows].sort((a, b) => a.start - b.start)) {
    if (groups.length > 0 && window.start < end) {
      groups[groups.length - 1].push(window);
      end = Math.max(end, window.end);
    } else {
      groups.push([window]);
      end = window.end;
    }
  }
  return groups.map((group) => group.sort((a, b) => b.score - a.score));
}

function driverOf(window: AnomalyWindow): WindowDriver | undefined {
  return window.drivers?.find((d) => d.metric === window.metric) ?? window.drivers?.[0];
}

/** The anomalies of a response, newest first, each in words. */
export function explainWindows(
  data: AnomaliesResponse,
  syncs: readonly Sync[],
): WindowExplanation[] {
  const span = data.range.to - data.range.from;
  const labelOf = (metric: string) => data.series.find((s) => s.metric === metric)?.label ?? metric;
  return groupWindows(data.windows)
    .reverse()
    .map((windows) => {
      const [window, ...others] = windows;
      const start = Math.min(...windows.map((w) => w.start));
      const end = Math.max(...windows.map((w) => w.end));
      const series = data.series.find((s) => s.metric === window.metric);
      const driver = driverOf(window);
      const label = labelOf(window.metric);
      const unit = series?.unit ?? '';
      const ongoing = windows.some((w) => isOngoing(w, data));
      const when = ongoing
        ? `since ${formatTime(start, span)}`
        : `${formatTime(start, span)}–${formatTime(end, span)}`;
      const headline = driver
        ? `${label} ${describeChange(driver)} ${when}`
        : `${label} anomalous ${when} (score ${window.score.toFixed(1)})`;
      const detail = driver
        ? `expected ${formatQuantity(driver.expected, unit)}, saw ${formatQuantity(driver.observed, unit)}`
        : '';
      const also = others
        .map((w) => {
          const d = driverOf(w);
          return `${labelOf(w.metric)} ${d ? describeChange(d) : 'anomalous'}`;
        })
        .join(', ');
      const sync = syncBefore(start, syncs);
      return {
        window,
        windows,
        start,
        end,
        also,
        series,
        driver,
        ongoing,
        headline,
        detail,
        syncNote: syncText(sync),
        sync,
      };
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
  const groups = groupWindows(data.windows);
  const ongoing = groups.find((group) => group.some((w) => isOngoing(w, data)));
  if (ongoing) {
    return { kind: 'anomalous-now', since: Math.min(...ongoing.map((w) => w.start)) };
  }
  if ((data.summary.score ?? 0) >= ALERT_SCORE) {
    return { kind: 'anomalous-now', since: data.range.to };
  }
  return groups.length > 0
    ? { kind: 'normal-now', windows: groups.length }
    : { kind: 'normal', windows: 0 };
}
