import * as React from 'react';

import type { AnomaliesResponse } from '../api/types';
import { linearScale, metricDomain, timeTicks, windowBands } from '../model/chart-geometry';
import { formatScore, formatTime } from '../model/format';
import { ChartPanel } from './chart-panel';
import { CHART_HEIGHT, CHART_WIDTH } from './scoped-styles';

/** Readable on argo-ui's light and dark themes. */
export const SCORE_COLOR = '#0dadea';
export const METRIC_COLORS = ['#a36cd8', '#f09537', '#18be94', '#8f9eb3'];
const WINDOW_FILL = 'rgba(233, 109, 118, 0.25)';

const LEFT = 56;
const RIGHT = CHART_WIDTH - 12;
const TOP = 4;
const AXIS_HEIGHT = 22;
const GAP = 10;

export interface TimeSeriesChartProps {
  data: AnomaliesResponse;
  /** `id` of the element that titles the chart for screen readers. */
  titleId: string;
}

/**
 * The anomaly score (0–10) on top and each metric below it, on one time axis, with the
 * anomalous windows shaded across all of them. Hand-written SVG: a chart library would
 * cost more than the whole bundle budget.
 */
export function TimeSeriesChart({ data, titleId }: TimeSeriesChartProps): React.ReactElement {
  const { from, to } = data.range;
  const span = to - from;
  const x = linearScale([from, to], [LEFT, RIGHT]);
  const panels = 1 + data.series.length;
  const panelHeight = (CHART_HEIGHT - TOP - AXIS_HEIGHT - GAP * (panels - 1)) / panels;
  const plotBottom = CHART_HEIGHT - AXIS_HEIGHT;
  const bands = windowBands(data.windows, data.range, x);
  const ticks = timeTicks(from, to, 6);
  const descId = `${titleId}-desc`;

  return (
    <svg
      viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
      role="img"
      aria-labelledby={`${titleId} ${descId}`}
      preserveAspectRatio="xMidYMid meet"
    >
      <desc id={descId}>{describeChart(data)}</desc>
      {bands.map((band) => (
        <rect
          key={`${band.window.start}-${band.window.metric}`}
          className="ae-window"
          x={band.x}
          y={TOP}
          width={band.width}
          height={plotBottom - TOP}
          fill={WINDOW_FILL}
        >
          <title>
            {`Anomalous ${band.window.metric}: score ${formatScore(band.window.score)}, ` +
              `${formatTime(band.window.start, span)} – ${formatTime(band.window.end, span)}`}
          </title>
        </rect>
      ))}
      <ChartPanel
        label="Anomaly score"
        unit="0–10"
        points={data.scores}
        domain={[0, 10]}
        x={x}
        left={LEFT}
        right={RIGHT}
        top={TOP}
        height={panelHeight}
        color={SCORE_COLOR}
      />
      {data.series.map((series, i) => (
        <ChartPanel
          key={series.metric}
          label={series.label}
          unit={series.unit}
          points={series.points}
          domain={metricDomain(series.points)}
          x={x}
          left={LEFT}
          right={RIGHT}
          top={TOP + (i + 1) * (panelHeight + GAP)}
          height={panelHeight}
          color={METRIC_COLORS[i % METRIC_COLORS.length]}
        />
      ))}
      <g aria-hidden="true">
        {ticks.map((tick) => (
          <text
            key={tick}
            x={x(tick)}
            y={CHART_HEIGHT - 6}
            textAnchor="middle"
            fontSize={11}
            fill="currentColor"
            opacity={0.7}
          >
            {formatTime(tick, span)}
          </text>
        ))}
      </g>
    </svg>
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
