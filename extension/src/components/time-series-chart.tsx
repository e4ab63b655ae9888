import * as React from 'react';

import type { AnomaliesResponse, AnomalyWindow, MetricSeries, Point } from '../api/types';
import { linearScale, timeTicks, valueExtent, windowBands } from '../model/chart-geometry';
import { ALERT_SCORE } from '../model/explain';
import { formatScore, formatTime } from '../model/format';
import type { Sync } from '../model/syncs';
import { valueAxis } from '../model/units';
import { ChartPanel, PANEL_TITLE_HEIGHT } from './chart-panel';

/** Readable on argo-ui's light and dark themes. */
export const SCORE_COLOR = '#0dadea';
export const METRIC_COLORS = ['#a36cd8', '#f09537', '#18be94', '#8f9eb3'];
const WINDOW_FILL = 'rgba(233, 109, 118, 0.2)';
const WINDOW_SELECTED_FILL = 'rgba(233, 109, 118, 0.3)';
const SYNC_COLOR = '#6d7f8b';

/** Room for the y tick labels ("1000", "2.5"): the unit is in each panel's title. */
const LEFT = 48;
const RIGHT_PAD = 12;
const SCORE_HEIGHT = 44;
const METRIC_HEIGHT = 60;
const GAP = 10;
const SYNC_ROW = 16;
const AXIS_HEIGHT = 22;
/** Rough width of one character of the 10–11 px labels, to keep them apart. */
const CHAR_WIDTH = 6.5;
/** Narrower than this, the chart scrolls sideways rather than squeezing its labels. */
export const MIN_CHART_WIDTH = 320;

/** The chart's height in pixels for `metrics` metric panels, with or without sync labels. */
export function chartHeight(metrics: number, syncRow: boolean): number {
  return (
    (syncRow ? SYNC_ROW : 0) +
    (1 + metrics) * (PANEL_TITLE_HEIGHT + GAP) +
    SCORE_HEIGHT +
    metrics * METRIC_HEIGHT -
    GAP +
    AXIS_HEIGHT
  );
}

export interface TimeSeriesChartProps {
  data: AnomaliesResponse;
  /** `id` of the element that titles the chart for screen readers. */
  titleId: string;
  /** Width in CSS pixels: text keeps its size at any width. */
  width: number;
  /**
   * The anomaly chosen in the list, strongest window first: its windows emphasised, and the
   * strongest one's metric drawn with its expected band.
   */
  selected?: readonly AnomalyWindow[];
  syncs: readonly Sync[];
}

/** "Memory · MiB": the axis numbers are in this unit. */
export function panelTitle(series: MetricSeries, unit: string): string {
  return unit && unit.toLowerCase() !== series.label.toLowerCase()
    ? `${series.label} · ${unit}`
    : series.label;
}

function inRange(points: readonly Point[] | undefined, from: number, to: number): Point[] {
  return (points ?? []).filter(([t]) => t >= from && t <= to);
}

/**
 * The anomaly score (0–10) on top and each metric below it, on one time axis, with the
 * anomalous windows shaded across all of them and the application's syncs marked.
 * Hand-written SVG at the container's pixel width: a chart library would cost more than
 * the whole bundle budget, and scaling a fixed drawing would shrink its text.
 */
export function TimeSeriesChart(props: TimeSeriesChartProps): React.ReactElement {
  const { data, titleId, selected, syncs } = props;
  const width = Math.max(MIN_CHART_WIDTH, Math.round(props.width));
  const { from, to } = data.range;
  const span = to - from;
  const right = width - RIGHT_PAD;
  const x = linearScale([from, to], [LEFT, right]);
  const visibleSyncs = syncs.filter((s) => s.at >= from && s.at <= to);
  const syncRow = visibleSyncs.length > 0 ? SYNC_ROW : 0;

  let top = syncRow;
  const scoreTop = top;
  top += PANEL_TITLE_HEIGHT + SCORE_HEIGHT + GAP;
  const panels = data.series.map((series, i) => {
    const shown = inRange(series.points, from, to);
    const expected = inRange(series.expected, from, to);
    const values = valueExtent([...shown, ...expected]) ?? [0, 0];
    const axis = valueAxis(values[0], values[1], series.unit);
    const panel = { series, axis, top, color: METRIC_COLORS[i % METRIC_COLORS.length] };
    top += PANEL_TITLE_HEIGHT + METRIC_HEIGHT + GAP;
    return panel;
  });
  const plotTop = syncRow + PANEL_TITLE_HEIGHT;
  const plotBottom = top - GAP;
  const height = plotBottom + AXIS_HEIGHT;
  const bands = windowBands(data.windows, data.range, x);
  const tickSpacing = (span > 86400 ? 14 : 7) * CHAR_WIDTH + 24;
  // A label that would reach into the y labels' column or past the drawing's edge is moved
  // inside, by at most half its width: dropping it would leave a 24-hour range with one
  // label at some times of day, when its two round times fall near the edges. Labels are
  // tickSpacing apart, more than a label's width, so a moved one still overlaps nothing.
  const ticks = timeTicks(from, to, Math.max(2, Math.floor((right - LEFT) / tickSpacing))).map(
    (tick) => {
      const half = (formatTime(tick, span).length * CHAR_WIDTH) / 2;
      return { tick, at: Math.min(width - half, Math.max(LEFT - 2 + half, x(tick))) };
    },
  );
  const descId = `${titleId}-desc`;

  return (
    <svg
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-labelledby={`${titleId} ${descId}`}
    >
      <desc id={descId}>{describeChart(data)}</desc>
      {bands.map((band) => {
        const chosen = selected?.includes(band.window) ?? false;
        return (
          <rect
            key={`${band.window.start}-${band.window.metric}`}
            className={`ae-window${chosen ? ' ae-window--selected' : ''}`}
            x={band.x}
            y={plotTop}
            width={band.width}
            height={plotBottom - plotTop}
            fill={chosen ? WINDOW_SELECTED_FILL : WINDOW_FILL}
            stroke={chosen ? '#e96d76' : 'none'}
          >
            <title>
              {`Anomalous ${band.window.metric}: score ${formatScore(band.window.score)}, ` +
                `${formatTime(band.window.start, span)} – ${formatTime(band.window.end, span)}`}
            </title>
          </rect>
        );
      })}
      <ChartPanel
        title="Anomaly score · 0–10"
        points={data.scores}
        min={0}
        max={10}
        ticks={[0, ALERT_SCORE, 10]}
        tickLabels={['0', String(ALERT_SCORE), '10']}
        threshold={ALERT_SCORE}
        x={x}
        left={LEFT}
        right={right}
        top={scoreTop}
        height={SCORE_HEIGHT}
        color={SCORE_COLOR}
      />
      {panels.map(({ series, axis, top: panelTop, color }) => {
        const chosen = selected?.[0]?.metric === series.metric;
        return (
          <ChartPanel
            key={series.metric}
            title={panelTitle(series, axis.unit)}
            points={series.points}
            min={axis.min}
            max={axis.max}
            ticks={axis.ticks}
            tickLabels={axis.labels}
            band={chosen ? series.band : undefined}
            expected={chosen ? series.expected : undefined}
            x={x}
            left={LEFT}
            right={right}
            top={panelTop}
            height={METRIC_HEIGHT}
            color={color}
          />
        );
      })}
      <SyncMarkers syncs={visibleSyncs} x={x} top={0} bottom={plotBottom} right={width} />
      <g aria-hidden="true">
        {ticks.map(({ tick, at }) => (
          <text
            key={tick}
            x={at}
            y={height - 6}
            textAnchor="middle"
            fontSize={11}
            fill="currentColor"
            opacity={0.75}
            className="ae-time"
          >
            {formatTime(tick, span)}
          </text>
        ))}
      </g>
    </svg>
  );
}

/** A dashed line per sync, labelled with its revision where the label has room. */
function SyncMarkers(props: {
  syncs: readonly Sync[];
  x: (t: number) => number;
  top: number;
  bottom: number;
  right: number;
}): React.ReactElement {
  const { syncs, x, top, bottom, right } = props;
  let freeFrom = -Infinity;
  return (
    <g className="ae-syncs" aria-hidden="true">
      {syncs.map((sync) => {
        const at = x(sync.at);
        const label = sync.running ? `syncing ${sync.revision}` : `sync ${sync.revision}`;
        const labelWidth = label.length * CHAR_WIDTH;
        // Right-aligned at the right edge, left-aligned elsewhere; skipped when it would
        // run into the previous label.
        const anchorEnd = at + 3 + labelWidth > right;
        const start = anchorEnd ? at - 3 - labelWidth : at + 3;
        const show = start >= freeFrom + 6;
        if (show) freeFrom = start + labelWidth;
        return (
          <g key={`${sync.at}-${sync.revision}`} className="ae-sync">
            <title>{`${sync.running ? 'Sync running since' : 'Synced'} to ${sync.revision} at ${new Date(sync.at * 1000).toLocaleString()}`}</title>
            <line
              x1={at}
              x2={at}
              y1={top + SYNC_ROW - 2}
              y2={bottom}
              stroke={SYNC_COLOR}
              strokeWidth={1}
              strokeDasharray="2 3"
            />
            {show && (
              <text
                x={anchorEnd ? at - 3 : at + 3}
                y={top + 11}
                textAnchor={anchorEnd ? 'end' : 'start'}
                fontSize={10}
                fill="currentColor"
                opacity={0.8}
                className="ae-sync-label"
              >
                {label}
              </text>
            )}
          </g>
        );
      })}
    </g>
  );
}

/** What the chart shows, in words, for screen readers. */
export function describeChart(data: AnomaliesResponse): string {
  const span = data.range.to - data.range.from;
  const metrics = data.series.map((s) => s.label).join(', ');
  const windows = data.windows.map(
    (w) =>
      `${w.metric} from ${formatTime(w.start, span)} to ${formatTime(w.end, span)}, ` +
      `peak score ${formatScore(w.score)}`,
  );
  return (
    `Anomaly score${metrics ? ` and ${metrics}` : ''} from ${formatTime(data.range.from, span)} ` +
    `to ${formatTime(data.range.to, span)}. ` +
    (windows.length
      ? `${windows.length} anomalous window${windows.length > 1 ? 's' : ''}: ${windows.join('; ')}.`
      : 'No anomalous windows.')
  );
}
