import * as React from 'react';

import type { BandPoint, Point } from '../api/types';
import { bandPath, linePath, linearScale, type Scale } from '../model/chart-geometry';

/** Height of the title row above each panel's plot, in pixels. */
export const PANEL_TITLE_HEIGHT = 18;

export interface ChartPanelProps {
  /** "Memory (MiB)". */
  title: string;
  points: readonly Point[];
  /** The y axis, in the series' unit. */
  min: number;
  max: number;
  /** Tick values (series' unit) and their labels. */
  ticks: readonly number[];
  tickLabels: readonly string[];
  /** A dashed reference line (the score panel's alert level). */
  threshold?: number;
  /** The expected band and line, drawn behind the values (the chosen metric). */
  band?: readonly BandPoint[];
  expected?: readonly Point[];
  x: Scale;
  left: number;
  right: number;
  /** Top of the title row. */
  top: number;
  /** Height of the plot below the title. */
  height: number;
  color: string;
}

/** One horizontal band of the chart: a title row, then a line on its own y axis. */
export function ChartPanel(props: ChartPanelProps): React.ReactElement {
  const { title, points, min, max, ticks, tickLabels, threshold, band, expected } = props;
  const { x, left, right, top, height, color } = props;
  const plotTop = top + PANEL_TITLE_HEIGHT;
  const bottom = plotTop + height;
  const y = linearScale([min, max], [bottom, plotTop]);
  const path = linePath(points, x, y);
  const bandD = band ? bandPath(band, x, y, min, max) : '';
  const expectedD = expected ? linePath(expected, x, y) : '';
  return (
    <g className="ae-panel" aria-hidden="true">
      <text x={left} y={top + 12} fontSize={12} fill="currentColor" className="ae-panel-title">
        {title}
      </text>
      {ticks.map((tick, i) => (
        <g key={tick}>
          <line
            x1={left}
            x2={right}
            y1={y(tick)}
            y2={y(tick)}
            stroke="currentColor"
            strokeOpacity={tick === 0 ? 0.3 : 0.08}
          />
          <text
            x={left - 6}
            y={y(tick)}
            dy="0.35em"
            textAnchor="end"
            fontSize={11}
            fill="currentColor"
            opacity={0.75}
            className="ae-tick"
          >
            {tickLabels[i]}
          </text>
        </g>
      ))}
      {threshold !== undefined && (
        <line
          x1={left}
          x2={right}
          y1={y(threshold)}
          y2={y(threshold)}
          stroke="#e96d76"
          strokeOpacity={0.6}
          strokeDasharray="4 3"
        />
      )}
      {bandD && <path className="ae-band" d={bandD} fill={color} fillOpacity={0.18} />}
      {expectedD && (
        <path
          className="ae-expected"
          d={expectedD}
          fill="none"
          stroke={color}
          strokeOpacity={0.7}
          strokeWidth={1}
          strokeDasharray="3 3"
        />
      )}
      {path && (
        <path
          d={path}
          fill="none"
          stroke={color}
          strokeWidth={1.75}
          strokeLinejoin="round"
          strokeLinecap="round"
        />
      )}
    </g>
  );
}
