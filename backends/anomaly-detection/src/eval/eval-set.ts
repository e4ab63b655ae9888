import type { SeriesPoint } from '../detector';
import { Prng } from './prng';

/**
 * Kinds of labelled anomalies. `burst`: a real burst in a sparse counter or in a series
 * with hard-edged daily hours. Every label marks the anomaly's onset and course: a level
 * shift or a drift that stays is labelled from its start to the end of its change (the
 * step itself; the ramp), not for the rest of the range.
 */
export type AnomalyType = 'spike' | 'level_shift' | 'drift' | 'burst';

/**
 * Series families (README.md, "Evaluation"). `clean`, `past_incident` and `weekly_job`
 * have no labels in the scored range: any window there is false.
 */
export type Family =
  | 'spike'
  | 'level_shift'
  | 'factor_change'
  | 'drift'
  | 'clean'
  | 'past_incident'
  | 'weekly_job'
  | 'sparse_counter'
  | 'daily_edges'
  | 'short_history';

/** A labelled anomaly: `[start, end)` in unix seconds. */
export interface Label {
  type: AnomalyType;
  start: number;
  end: number;
}

/** A span of time, `[start, end)` in unix seconds. */
export interface Span {
  start: number;
  end: number;
}

export interface EvalSeries {
  name: string;
  family: Family;
  step: number;
  points: SeriesPoint[];
  /**
   * Start of the scored range (unix seconds): points before it are the history the
   * detector warms up on (as the service fetches it); only windows reaching past it count.
   */
  scoredFrom: number;
  labels: Label[];
  /**
   * Unlabelled spans that repeat something seen before and must not alert: the hours of
   * last week's incident, a week later; the third occurrence of a weekly job. A window
   * there is a false positive like any other; these are also counted on their own.
   */
  recurrences: Span[];
}

/** Seed of the evaluation set. Change it only together with the README's figures. */
export const EVAL_SEED = 20261207;
/** Series per family. */
export const SERIES_PER_FAMILY = 12;
/** Steps: even-numbered series of a family use the first, odd ones the second. */
export const EVAL_STEPS: readonly [number, number] = [60, 300];
/** A Monday 00:00 UTC, so weekends fall where a reader expects them. */
const START = 1_717_977_600;
const DAY = 86400;
const HOUR = 3600;
const WEEK = 7 * DAY;

const FAMILIES: readonly Family[] = [
  'spike',
  'level_shift',
  'factor_change',
  'drift',
  'clean',
  'past_incident',
  'weekly_job',
  'sparse_counter',
  'daily_edges',
  'short_history',
];

/** Builds the whole labelled set, deterministically from the seed. */
export function generateEvalSet(seed = EVAL_SEED): EvalSeries[] {
  const rng = new Prng(seed);
  const set: EvalSeries[] = [];
  for (const family of FAMILIES) {
    for (let k = 0; k < SERIES_PER_FAMILY; k++) {
      set.push(generateSeries(rng, family, k));
    }
  }
  return set;
}

/** A series under construction: log values on a grid of `step` seconds from START. */
interface Draft {
  step: number;
  log: number[];
  /** The noise's standard deviation (log units). */
  noise: number;
  labels: Label[];
  recurrences: Span[];
}

function generateSeries(rng: Prng, family: Family, k: number): EvalSeries {
  const step = EVAL_STEPS[k % 2];
  const perDay = DAY / step;
  // History before the scored range: one week (the 7-day lag exists), 15 days for the
  // weekly job (its third occurrence is scored), a few hours for a new workload.
  let historyDays = family === 'weekly_job' ? 15 : 7;
  let scoredDays = 7;
  let offsetDays = 0;
  if (family === 'short_history') {
    // A Deployment created a few hours ago, on a weekday (Tuesday–Thursday).
    offsetDays = rng.int(1, 3) + rng.between(0, 0.5);
    historyDays = rng.between(2, 6) / 24;
    scoredDays = 1;
  }
  const first = Math.round((offsetDays * DAY) / step); // grid index of the first point
  const n = first + Math.round(((historyDays + scoredDays) * DAY) / step);
  const scored = first + Math.round((historyDays * DAY) / step);
  const at = (day: number): number => Math.round(day * perDay);

  if (family === 'sparse_counter') return sparseCounter(rng, k, step, n, scored);

  const d: Draft = { step, log: [], noise: rng.between(0.03, 0.08), labels: [], recurrences: [] };
  d.log = workload(rng, step, first, n, d.noise, family === 'daily_edges');

  if (family === 'spike') {
    // Three spikes of 4–12 σ (σ: the series' noise), 3–15 points, up or down.
    for (const day of [8, 10, 12]) {
      const from = at(day + rng.between(-0.4, 0.4));
      const length = rng.int(3, 15);
      const size = d.noise * rng.between(4, 12) * sign(rng);
      add(d.log, from, from + length, size);
      d.labels.push(label(d, 'spike', from, from + length));
    }
  } else if (family === 'level_shift' || family === 'factor_change') {
    // Lasting steps (a release, a scale-out): ×1.3–2 up or ×0.5–0.77 down from then on;
    // three per series, or one ×1.5 / ÷1.5 release (the family the old set said was normal).
    const days = family === 'level_shift' ? [8, 10, 12] : [rng.between(8, 12)];
    for (const day of days) {
      const from = at(day + rng.between(-0.4, 0.4));
      const size =
        family === 'factor_change'
          ? Math.log(1.5) * sign(rng)
          : rng.chance(0.5)
            ? Math.log(rng.between(1.3, 2))
            : Math.log(rng.between(0.5, 0.77));
      add(d.log, from, n, size);
      d.labels.push(label(d, 'level_shift', from, from + 1));
    }
  } else if (family === 'drift') {
    // Two slow multiplicative trends: ×1.5–3 (or ÷) over 6–24 hours, then staying there.
    for (const day of [8, 11]) {
      const from = at(day + rng.between(0, 0.5));
      const ramp = Math.round((rng.between(6, 24) * HOUR) / step);
      const size = Math.log(rng.between(1.5, 3)) * sign(rng);
      for (let i = from; i < n; i++) d.log[i] += size * Math.min(1, (i - from) / ramp);
      d.labels.push(label(d, 'drift', from, from + ramp));
    }
  } else if (family === 'past_incident') {
    // An outage (÷5–÷20) or surge (×3–×5) of 30 min–2 h in the history week; the same
    // hours a week later, in the scored range, must not alert.
    const from = at(rng.between(4, 6.5));
    const length = Math.round((rng.between(0.5, 2) * HOUR) / step);
    const size = rng.chance(0.5) ? Math.log(rng.between(0.05, 0.2)) : Math.log(rng.between(3, 5));
    add(d.log, from, from + length, size);
    d.recurrences.push(span(d, from + WEEK / step, from + WEEK / step + length));
  } else if (family === 'weekly_job') {
    // A weekly batch job, ×2.5–×4 for 1–3 hours, same weekday and time every week; the
    // third occurrence (in the scored range) must not alert.
    const from = at(rng.between(1, 6.8));
    const length = Math.round((rng.between(1, 3) * HOUR) / step);
    const size = Math.log(rng.between(2.5, 4));
    for (let s = from; s < n; s += WEEK / step) {
      add(d.log, s, Math.min(n, s + length), size);
      if (s >= scored) d.recurrences.push(span(d, s, s + length));
    }
  } else if (family === 'daily_edges') {
    // Business hours with hard edges every day (workload() draws them); half the series
    // also get a real burst (×3–×6 for 3–15 points) in the scored range.
    if (k % 4 < 2) {
      const from = at(rng.between(8, 13));
      const length = rng.int(3, 15);
      add(d.log, from, from + length, Math.log(rng.between(3, 6)));
      d.labels.push(label(d, 'burst', from, from + length));
    }
  } else if (family === 'short_history') {
    // Half: a ×2 (or ÷2) step a few hours into the scored day.
    if (k % 4 < 2) {
      const from = scored + Math.round((rng.between(1, 12) * HOUR) / step);
      add(d.log, from, n, Math.log(2) * sign(rng));
      d.labels.push(label(d, 'level_shift', from, from + 1));
    }
  }

  return {
    name: `${family}-${k}`,
    family,
    step,
    points: toPoints(rng, d.log, step, first),
    scoredFrom: START + scored * step,
    labels: d.labels,
    recurrences: d.recurrences,
  };
}

/**
 * Log of a clean workload metric on grid indices [0, n) (indices before `first` are
 * NaN: the series does not exist yet): a level of 5–500, a daily cycle of amplitude
 * 20–60 % with a harmonic, weekends (UTC Saturday and Sunday) at ×0.6–0.9, a slow day-to-day wander of ~2 %, and noise proportional to the level. With
 * `edges`, business hours 09:00–18:00 at ×2–4 with hard edges instead of the smooth cycle.
 */
function workload(
  rng: Prng,
  step: number,
  first: number,
  n: number,
  noise: number,
  edges: boolean,
): number[] {
  const level = Math.log(rng.between(5, 500));
  const amplitude = rng.between(0.2, 0.6);
  const phase = rng.between(0, 2 * Math.PI);
  const weekend = Math.log(rng.between(0.6, 0.9));
  const office = Math.log(rng.between(2, 4));
  const wanderDecay = Math.exp(-step / (12 * HOUR));
  const wanderKick = 0.02 * Math.sqrt(1 - wanderDecay * wanderDecay);
  const log: number[] = [];
  let wander = 0.02 * rng.normal();
  for (let i = 0; i < n; i++) {
    wander = wanderDecay * wander + wanderKick * rng.normal();
    if (i < first) {
      log.push(NaN);
      continue;
    }
    const t = i * step;
    const hourOfDay = (t % DAY) / HOUR;
    const angle = (2 * Math.PI * hourOfDay) / 24;
    const cycle = edges
      ? hourOfDay >= 9 && hourOfDay < 18
        ? office
        : 0
      : Math.log(1 + amplitude * (0.85 * Math.sin(angle + phase) + 0.15 * Math.sin(2 * angle)));
    log.push(level + cycle + weekend * weekendShare(t) + wander + noise * rng.normal());
  }
  return log;
}

/** 1 on Saturdays and Sundays (UTC), 0 on weekdays. */
function weekendShare(t: number): number {
  const day = Math.floor((((t % WEEK) + WEEK) % WEEK) / DAY); // t = 0 is a Monday 00:00
  return day >= 5 ? 1 : 0;
}

/**
 * A sparse counter (errors per step): mostly 0 with occasional 1s and 2s (Poisson, a mean
 * of 0.02–0.3 per point with a mild daily cycle). Half get a real burst in the scored
 * range: 10–40 per point for 3–15 points.
 */
function sparseCounter(rng: Prng, k: number, step: number, n: number, scored: number): EvalSeries {
  const mean = rng.between(0.02, 0.3);
  const phase = rng.between(0, 2 * Math.PI);
  const rate: number[] = [];
  for (let i = 0; i < n; i++) {
    rate.push(mean * (1 + 0.5 * Math.sin((2 * Math.PI * i * step) / DAY + phase)));
  }
  const labels: Label[] = [];
  if (k % 4 < 2) {
    const from = scored + Math.round(rng.between(1, 6) * (DAY / step));
    const length = rng.int(3, 15);
    const size = rng.between(10, 40);
    for (let i = from; i < from + length; i++) rate[i] = size;
    labels.push({ type: 'burst', start: START + from * step, end: START + (from + length) * step });
  }
  const points: SeriesPoint[] = [];
  const missingFrom = rng.int(0, n - 60);
  const missingTo = missingFrom + Math.round((rng.between(20, 60) * 60) / step);
  for (let i = 0; i < n; i++) {
    if (i >= missingFrom && i < missingTo) continue;
    points.push([START + i * step, rng.chance(0.003) ? null : poisson(rng, rate[i])]);
  }
  return {
    name: `sparse_counter-${k}`,
    family: 'sparse_counter',
    step,
    points,
    scoredFrom: START + scored * step,
    labels,
    recurrences: [],
  };
}

function poisson(rng: Prng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rng.next(); p > limit; p *= rng.next()) k++;
  return k;
}

function sign(rng: Prng): number {
  return rng.chance(0.5) ? 1 : -1;
}

function add(log: number[], from: number, to: number, size: number): void {
  for (let i = from; i < to && i < log.length; i++) log[i] += size;
}

function label(d: Draft, type: AnomalyType, from: number, to: number): Label {
  return { type, ...span(d, from, to) };
}

/** Grid indices `[from, to)` as unix seconds. */
function span(d: { step: number }, from: number, to: number): Span {
  return { start: START + from * d.step, end: START + to * d.step };
}

/**
 * Values with missed scrapes: ~0.3 % single gaps and one 20–60 minute outage of the
 * scraper (~0.4 % missing in all over two weeks).
 */
function toPoints(rng: Prng, log: number[], step: number, first: number): SeriesPoint[] {
  const missingFrom = rng.int(first, log.length - 60);
  const missingTo = missingFrom + Math.round((rng.between(20, 60) * 60) / step);
  const points: SeriesPoint[] = [];
  for (let i = first; i < log.length; i++) {
    if (i >= missingFrom && i < missingTo) continue; // absent from the range entirely
    const value = rng.chance(0.003) ? null : Math.round(Math.exp(log[i]) * 1000) / 1000;
    points.push([START + i * step, value]);
  }
  return points;
}
