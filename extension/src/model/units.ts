import { niceCeiling } from './chart-geometry';

/**
 * Human units for metric values: bytes in KiB/MiB/GiB, CPU in millicores or cores,
 * durations in ms or s, rates with k/M. The backend names a metric's unit
 * (docs/anomaly-api.md: `cores`, `bytes`, `req/s`, `seconds`, `restarts`, ...); a unit this
 * module does not know is kept as it is, with k/M/G for large values.
 */

/** How values of one unit are shown: divided by `factor`, followed by `suffix`. */
export interface DisplayUnit {
  factor: number;
  /** Text after the number (`MiB`, `cores`, `ms`, `k req/s`); empty for a bare count. */
  suffix: string;
  /** The suffix begins with an SI prefix written against the number ("1.2k req/s"). */
  prefixed?: boolean;
}

interface UnitFamily {
  /** Value of one unit of the metric in the family's base (e.g. `MiB` is 2^20 bytes). */
  scale: number;
  /** Candidate display units, smallest first. */
  steps: readonly DisplayUnit[];
}

const KIB = 1024;
const BYTES: readonly DisplayUnit[] = [
  { factor: 1, suffix: 'B' },
  { factor: KIB, suffix: 'KiB' },
  { factor: KIB ** 2, suffix: 'MiB' },
  { factor: KIB ** 3, suffix: 'GiB' },
  { factor: KIB ** 4, suffix: 'TiB' },
];
const CORES: readonly DisplayUnit[] = [
  { factor: 0.001, suffix: 'millicores' },
  { factor: 1, suffix: 'cores' },
];
const SECONDS: readonly DisplayUnit[] = [
  { factor: 1e-6, suffix: 'µs' },
  { factor: 0.001, suffix: 'ms' },
  { factor: 1, suffix: 's' },
];
const PERCENT: readonly DisplayUnit[] = [{ factor: 1, suffix: '%' }];

function si(unit: string): readonly DisplayUnit[] {
  const after = unit ? ` ${unit}` : '';
  return [
    { factor: 1, suffix: unit },
    { factor: 1e3, suffix: `k${after}`, prefixed: true },
    { factor: 1e6, suffix: `M${after}`, prefixed: true },
    { factor: 1e9, suffix: `G${after}`, prefixed: true },
  ];
}

function family(unit: string): UnitFamily {
  switch (unit.trim().toLowerCase()) {
    case 'bytes':
    case 'byte':
    case 'b':
      return { scale: 1, steps: BYTES };
    case 'kib':
      return { scale: KIB, steps: BYTES };
    case 'mib':
      return { scale: KIB ** 2, steps: BYTES };
    case 'gib':
      return { scale: KIB ** 3, steps: BYTES };
    case 'cores':
    case 'core':
    case 'cpu':
      return { scale: 1, steps: CORES };
    case 'millicores':
      return { scale: 0.001, steps: CORES };
    case 'seconds':
    case 'second':
    case 's':
      return { scale: 1, steps: SECONDS };
    case 'ms':
    case 'milliseconds':
      return { scale: 0.001, steps: SECONDS };
    case '%':
    case 'percent':
      return { scale: 1, steps: PERCENT };
    case 'ratio':
      return { scale: 100, steps: PERCENT };
    default:
      return { scale: 1, steps: si(unit.trim()) };
  }
}

/** The display unit for values of `unit` up to about `magnitude` (in the metric's unit). */
export function displayUnit(unit: string, magnitude: number): DisplayUnit {
  const { scale, steps } = family(unit);
  const base = Math.abs(magnitude) * scale;
  let chosen = steps[0];
  for (const step of steps) if (base >= step.factor) chosen = step;
  return { ...chosen, factor: chosen.factor / scale };
}

/** `value` in `display`'s unit with up to 3 significant digits (no unit text). */
export function formatNumber(value: number, display: DisplayUnit): string {
  const shown = value / display.factor;
  const abs = Math.abs(shown);
  if (abs === 0) return '0';
  const text =
    abs >= 100 ? shown.toFixed(0) : abs >= 1 ? shown.toPrecision(3) : shown.toPrecision(2);
  return String(Number(text));
}

/** A value for a sentence: "0.42 cores", "512 MiB", "230 ms", "1.2k req/s", "3 restarts". */
export function formatQuantity(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const display = displayUnit(unit, value);
  // Below one core, "0.42 cores" reads better in a sentence than "420 millicores".
  const shown =
    display.suffix === 'millicores' && Math.abs(value) >= 0.1
      ? { factor: 1, suffix: 'cores' }
      : display;
  const number = formatNumber(value, shown);
  if (!shown.suffix) return number;
  return shown.prefixed ? `${number}${shown.suffix}` : `${number} ${shown.suffix}`;
}

export interface Axis {
  /** Bottom of the axis: 0, or a nice negative value below the lowest one. */
  min: number;
  /** Top of the axis (a nice value, in the metric's unit). */
  max: number;
  /** Tick values in the metric's unit, bottom to top. */
  ticks: number[];
  /** The tick labels (numbers in `unit`). */
  labels: string[];
  /** The display unit's text, for the panel title. */
  unit: string;
}

/**
 * A y axis for values from `low` to `high` (in the metric's unit), in the unit a person
 * reads (512 MiB, not 536870912): from 0 (metrics are rates and sizes; an axis that starts
 * above zero makes a 5 % change look like a spike) to a nice value with 10 % headroom, so
 * the line stays clear of the panel's title; ticks at 0, half way and the top. Negative
 * values (a derivative) extend the axis below 0 to a nice value.
 */
export function valueAxis(low: number, high: number, unit: string): Axis {
  const top = high > 0 && Number.isFinite(high) ? high * HEADROOM : low < 0 ? 0 : 1;
  const rough = displayUnit(unit, Math.max(top, -low));
  const niceTop = top > 0 ? niceCeiling(top / rough.factor) * rough.factor : 0;
  const niceBottom = low < 0 ? -niceCeiling(-low / rough.factor) * rough.factor : 0;
  // 680 millicores rounds up to 1000: shown as 1 core.
  const display = displayUnit(unit, Math.max(niceTop, -niceBottom));
  const ticks =
    niceBottom < 0
      ? niceTop > 0
        ? [niceBottom, 0, niceTop]
        : [niceBottom, niceBottom / 2, 0]
      : [0, niceTop / 2, niceTop];
  return {
    min: niceBottom,
    max: niceTop,
    ticks,
    labels: ticks.map((t) => formatNumber(t, display)),
    unit: display.suffix,
  };
}

const HEADROOM = 1.1;
