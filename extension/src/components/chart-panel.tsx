import * as React from 'react';

import type { Point } from '../api/types';
import { linePath, linearScale, type Scale } from '../model/chart-geometry';
import { formatValue } from '../model/format';

export interface ChartPanelProps {
  label: string;
  unit: string;
  points: readonly Point[];
  /** y domain, bottom to top. */
  domain: [number, number];
  x: Scale;
  left: number;
  right: number;
  top: number;
  height: number;
  color: string;
}

/** One horizontal band of the chart: a line with its own y axis. */
export function ChartPanel(props: ChartPanelProps): React.ReactElement {
  const { label, unit, points, domain, x, left, right, top, height, color } = props;
  const bottom = top + height;
  const y = linearScale(domain, [bottom, top]);
  const path = linePath(points, x, y);
  return (
    <g className="ae-panel" aria-hidden="true">
      <line
        x1={left}
        x2={right}
        y1={bottom}
        y2={bottom}
        stroke="currentColor"
        strokeOpacity={0.3}
      />
      <line x1={left} x2={right} y1={top} y2={top} stroke="currentColor" strokeOpacity={0.1} />
      <text
        x={left - 6}
        y={top + 10}
        textAnchor="end"
        fontSize={11}
        fill="currentColor"
        opacity={0.7}
      >
        {formatValue(domain[1], '')}
      </text>
      <text
        x={left - 6}
        y={bottom}
        textAnchor="end"
        fontSize={11}
        fill="currentColor"
        opacity={0.7}
      >
        {formatValue(domain[0], '')}
      </text>
      <text x={left + 6} y={top + 13} fontSize={12} fill="currentColor">
        {unit ? `${label} (${unit})` : label}
      </text>
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
