import type { AnomalyWindow, BandPoint, Point } from '../api/types';

/** A linear map from a domain to pixels; a zero-width domain maps to the range start. */
export type Scale = (value: number) => number;

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  if (span === 0 || !Number.isFinite(span)) return () => r0;
  return (value) => r0 + ((value - d0) / span) * (r1 - r0);
}

/** Min and max of the non-null values, or undefined when there are none. */
export function valueExtent(points: readonly Point[]): [number, number] | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const [, value] of points) {
    if (value === null || !Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min <= max ? [min, max] : undefined;
}

/** The smallest 1, 2, 2.5 or 5 × 10^n that is >= value (a readable axis maximum). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    const candidate = factor * magnitude;
    // Tolerate float noise (0.30000000000000004 must give 0.5, not 1).
    if (candidate >= value * (1 - 1e-12)) return candidate;
  }
  return 10 * magnitude;
}

/**
 * An SVG path through the points; `null` values start a new sub-path, so a gap in
 * the data is a gap in the line rather than a drop to zero. A lone point between gaps
 * becomes a zero-length segment, which a round line cap draws as a dot.
 */
export function linePath(points: readonly Point[], x: Scale, y: Scale): string {
  const parts: string[] = [];
  let drawing = false;
  for (const [time, value] of points) {
    if (value === null || !Number.isFinite(value)) {
      drawing = false;
      continue;
    }
    const command = drawing ? 'L' : 'M';
    parts.push(`${command}${round(x(time))} ${round(y(value))}`);
    drawing = true;
  }
  // Make lone points visible.
  return parts
    .join('')
    .replace(
      /M([\d.-]+) ([\d.-]+)(?=M|$)/g,
      (_m, px: string, py: string) => `M${px} ${py}L${px} ${py}`,
    );
}

export interface WindowBand {
  x: number;
  width: number;
  window: AnomalyWindow;
}

/**
 * Horizontal bands for the anomalous windows, clipped to the visible range; windows
 * entirely outside it are dropped. A window shorter than one pixel is widened to
 * `minWidth` so it stays visible.
 */
export function windowBands(
  windows: readonly AnomalyWindow[],
  range: { from: number; to: number },
  x: Scale,
  minWidth = 2,
): WindowBand[] {
  const bands: WindowBand[] = [];
  for (const window of windows) {
    const start = Math.max(window.start, range.from);
    const end = Math.min(window.end, range.to);
    if (end < start || window.end <= range.from || window.start >= range.to) continue;
    const x0 = x(start);
    const width = Math.max(x(end) - x0, minWidth);
    bands.push({ x: round(x0), width: round(width), window });
  }
  return bands;
}

/** Evenly spaced tick times aligned to whole multiples of `interval` seconds. */
export function timeTicks(from: number, to: number, maxTicks: number): number[] {
  const span = to - from;
  if (!(span > 0) || maxTicks < 1) return [];
  const candidates = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800];
  const interval = candidates.find((c) => span / c <= maxTicks) ?? Math.ceil(span / maxTicks);
  const ticks: number[] = [];
  for (let t = Math.ceil(from / interval) * interval; t <= to; t += interval) ticks.push(t);
  return ticks;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Closed SVG paths filling the band between `low` and `high`, one per run of points where
 * both are known (a gap in the band is a gap in the fill). Values are clamped to
 * `[floor, ceiling]` so the band never leaves its panel.
 */
export function bandPath(
  band: readonly BandPoint[],
  x: Scale,
  y: Scale,
  floor: number,
  ceiling: number,
): string {
  const clamp = (v: number) => Math.min(ceiling, Math.max(floor, v));
  const paths: string[] = [];
  let run: Array<[number, number, number]> = [];
  const flush = () => {
    if (run.length >= 2) {
      const top = run.map(([t, , high]) => `${round(x(t))} ${round(y(clamp(high)))}`);
      const bottom = run.map(([t, low]) => `${round(x(t))} ${round(y(clamp(low)))}`).reverse();
      paths.push(`M${top.join('L')}L${bottom.join('L')}Z`);
    }
    run = [];
  };
  for (const [t, low, high] of band) {
    if (low === null || high === null || !Number.isFinite(low) || !Number.isFinite(high)) {
      flush();
      continue;
    }
    run.push([t, low, high]);
  }
  flush();
  return paths.join('');
}
