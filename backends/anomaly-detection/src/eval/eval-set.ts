import type { SeriesPoint } from '../detector';
import { Prng } from './prng';

/**
 * Kinds of labelled anomalies. `incident`: last week's outage (past-incident family) and
 * the first two occurrences of a weekly job (weekly-job family).
 */
export type AnomalyType = 'spike' | 'level_shift' | 'drift' | 'incident';

/**
 * Series families. `clean` and `factor_change` have no labels; `past_incident` and
 * `weekly_job` label only what a person would flag (see generateSeries).
 */
export type Family =
  'spike' | 'level_shift' | 'drift' | 'clean' | 'factor_change' | 'past_incident' | 'weekly_job';

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
  labels: Label[];
  /**
   * Unlabelled spans that repeat something seen before and must not alert: the hours of
   * last week's incident, a week later; the third occurrence of a weekly job. A window
   * there is a false positive like any other; these are also counted on their own.
   */
  recurrences: Span[];
}

/** Seed of the evaluation set. Change it only together with the README's figures. */
export const EVAL_SEED = 20240601;
/** Series per family. */
export const SERIES_PER_FAMILY = 10;
/** Step of every series: 5 minutes, a common Prometheus range step for a week. */
export const EVAL_STEP = 300;
/** A Monday 00:00 UTC, so weekends fall where a reader expects them. */
const START = 1_717_977_600;
const DAY = 86400;
const HOUR = 3600;
const WEEK = 7 * DAY;

/**
 * `standard`: every family, anomalies in the first week (README.md, "Evaluation").
 * `two_weeks_history`: only the spike, level-shift and drift families, 22 days long with
 * the anomalies in the third week, so the detector has the two weeks of history the
 * service fetches, and the weekly-pattern reference is in play.
 */
export type EvalLayout = 'standard' | 'two_weeks_history';

/** Builds the whole labelled set, deterministically from the seed. */
export function generateEvalSet(seed = EVAL_SEED, layout: EvalLayout = 'standard'): EvalSeries[] {
  const rng = new Prng(seed);
  const families: Family[] =
    layout === 'standard'
      ? [
          'spike',
          'level_shift',
          'drift',
          'clean',
          'factor_change',
          'past_incident',
          // Last, so that adding it left the other families' series unchanged.
          'weekly_job',
        ]
      : ['spike', 'level_shift', 'drift'];
  const set: EvalSeries[] = [];
  for (const family of families) {
    for (let k = 0; k < SERIES_PER_FAMILY; k++) {
      set.push(generateSeries(rng, family, k, layout));
    }
  }
  return set;
}

function generateSeries(rng: Prng, family: Family, k: number, layout: EvalLayout): EvalSeries {
  const days =
    family === 'weekly_job' || layout === 'two_weeks_history'
      ? 22
      : family === 'past_incident'
        ? 15
        : 8;
  const n = (days * DAY) / EVAL_STEP;
  const log = baseline(rng, n);
  const labels: Label[] = [];
  const recurrences: Span[] = [];

  if (family === 'spike' || family === 'level_shift' || family === 'drift') {
    // Three anomalies, around days 2, 4 and 6 (after a day of warm-up), at any hour; in
    // the two-weeks-history layout two weeks later.
    const first = layout === 'standard' ? 0 : 14;
    for (const day of [first + 2, first + 4, first + 6]) {
      const at = Math.round(((day + rng.between(-0.4, 0.4)) * DAY) / EVAL_STEP);
      labels.push(inject(rng, log, family, at));
    }
  } else if (family === 'factor_change') {
    // A release: traffic ×1.5 (or ÷1.5) from then on. Not an anomaly a person would flag.
    const at = Math.round(rng.between(2, 6) * (DAY / EVAL_STEP));
    const change = Math.log(1.5) * (rng.chance(0.5) ? 1 : -1);
    for (let i = at; i < n; i++) log[i] += change;
  } else if (family === 'past_incident') {
    // An outage in the first week at the hour that is then checked in the second week.
    const at = Math.round((rng.between(5, 6.5) * DAY) / EVAL_STEP);
    const length = rng.int(6, 24);
    const factor = rng.chance(0.5) ? rng.between(0.05, 0.2) : rng.between(3, 5);
    for (let i = at; i < at + length; i++) log[i] += Math.log(factor);
    labels.push(label('incident', at, at + length));
    recurrences.push(span(at + WEEK / EVAL_STEP, at + WEEK / EVAL_STEP + length));
  } else if (family === 'weekly_job') {
    // A weekly batch job: ×2.5–×4 for 1–3 hours, the same weekday and time every week,
    // first in week 1 after the warm-up day, so 22 days hold three occurrences. A person
    // seeing it the first or second time would flag it (labelled `incident`); the third
    // time, after two identical weeks, it is the weekly pattern and must not alert.
    const at = Math.round((rng.between(1, 6.8) * DAY) / EVAL_STEP);
    const length = Math.round((rng.between(1, 3) * HOUR) / EVAL_STEP);
    const size = Math.log(rng.between(2.5, 4));
    for (let week = 0, from = at; from < n; week++, from += WEEK / EVAL_STEP) {
      for (let i = from; i < from + length && i < n; i++) log[i] += size;
      if (week < 2) labels.push(label('incident', from, from + length));
      else recurrences.push(span(from, from + length));
    }
  }

  const points = toPoints(rng, log);
  return { name: `${family}-${k}`, family, step: EVAL_STEP, points, labels, recurrences };
}

/** Log of a clean workload metric: level, daily and weekly cycles, slow wander, noise. */
function baseline(rng: Prng, n: number): number[] {
  const level = Math.log(rng.between(5, 500));
  const daily = rng.between(0.3, 0.8); // day/night ratio exp(2·daily): ~1.8 to ~5
  const phase = rng.between(0, 2 * Math.PI);
  const weekend = rng.chance(0.7) ? Math.log(rng.between(0.6, 0.85)) : 0;
  const noise = rng.between(0.03, 0.08);
  const log: number[] = [];
  let wander = 0;
  for (let i = 0; i < n; i++) {
    const t = i * EVAL_STEP;
    const dayAngle = (2 * Math.PI * (t % DAY)) / DAY;
    const weekday = Math.floor(t / DAY) % 7;
    wander = 0.995 * wander + 0.01 * rng.normal();
    log.push(
      level +
        daily * Math.sin(dayAngle + phase) +
        0.3 * daily * Math.sin(2 * dayAngle + phase) +
        (weekday >= 5 ? weekend : 0) +
        wander +
        noise * rng.normal(),
    );
  }
  return log;
}

function inject(rng: Prng, log: number[], type: Family, at: number): Label {
  const sign = rng.chance(0.5) ? 1 : -1;
  const perHour = HOUR / EVAL_STEP;
  if (type === 'spike') {
    // 2–6 points (10–30 minutes), ×3–×8 up or ÷4–÷10 down.
    const length = rng.int(2, 6);
    const size = sign > 0 ? Math.log(rng.between(3, 8)) : -Math.log(rng.between(4, 10));
    for (let i = at; i < at + length; i++) log[i] += size;
    return label('spike', at, at + length);
  }
  if (type === 'level_shift') {
    // ×2.5–×4 (or ÷) for 3–10 hours, then back.
    const length = Math.round(rng.between(3, 10) * perHour);
    const size = sign * Math.log(rng.between(2.5, 4));
    for (let i = at; i < at + length && i < log.length; i++) log[i] += size;
    return label('level_shift', at, at + length);
  }
  // Drift: a ramp to ×2.5–×4 (or ÷) over 3–8 hours, held 1–3 hours, then back.
  const ramp = Math.round(rng.between(3, 8) * perHour);
  const hold = Math.round(rng.between(1, 3) * perHour);
  const size = sign * Math.log(rng.between(2.5, 4));
  for (let i = 0; i < ramp + hold && at + i < log.length; i++) {
    log[at + i] += size * Math.min(1, i / ramp);
  }
  return label('drift', at, at + ramp + hold);
}

function label(type: AnomalyType, from: number, to: number): Label {
  return { type, ...span(from, to) };
}

/** Grid indices `[from, to)` as unix seconds. */
function span(from: number, to: number): Span {
  return { start: START + from * EVAL_STEP, end: START + to * EVAL_STEP };
}

/** Values with missed scrapes: ~1 % single gaps and a 30–120 minute outage of the scraper. */
function toPoints(rng: Prng, log: number[]): SeriesPoint[] {
  const missingFrom = rng.int(DAY / EVAL_STEP, log.length - 30);
  const missingTo = missingFrom + rng.int(6, 24);
  const points: SeriesPoint[] = [];
  for (let i = 0; i < log.length; i++) {
    if (i >= missingFrom && i < missingTo) continue; // absent from the range entirely
    const value = rng.chance(0.01) ? null : Math.round(Math.exp(log[i]) * 1000) / 1000;
    points.push([START + i * EVAL_STEP, value]);
  }
  return points;
}
