import {
  detectAnomalies,
  inferStep,
  parameters,
  type SeriesPoint,
} from '../../../backends/anomaly-detection/src/detector';
import { isCountSeries } from '../../../backends/anomaly-detection/src/detector/detect-anomalies';
import {
  SlidingMedian,
  medianOf,
} from '../../../backends/anomaly-detection/src/detector/sliding-median';
import { Prng } from '../../../backends/anomaly-detection/src/eval/prng';

const STEP = 60;

/** A flat-ish series with deterministic ±3 % wiggle; `shape` may rewrite any value. */
function series(n: number, shape: (i: number, v: number) => number | null = (_i, v) => v) {
  const points: SeriesPoint[] = [];
  for (let i = 0; i < n; i++) {
    const base = 100 * (1 + 0.03 * Math.sin(i * 1.7));
    points.push([1_700_000_000 + i * STEP, shape(i, base)]);
  }
  return points;
}

/** 100 with seeded 4 % log-normal noise; `shape` may rewrite any value. */
function noisy(n: number, shape: (i: number, v: number) => number | null = (_i, v) => v) {
  const rng = new Prng(11);
  const points: SeriesPoint[] = [];
  for (let i = 0; i < n; i++) {
    points.push([1_700_000_000 + i * STEP, shape(i, 100 * Math.exp(0.04 * rng.normal()))]);
  }
  return points;
}

describe('detectAnomalies', () => {
  it('gives the same results from outputFrom on as without it, and the same windows', () => {
    const points = noisy(3000, (i, v) => (i >= 2500 && i < 2510 ? v * 4 : i % 97 === 0 ? null : v));
    const all = detectAnomalies(points, { step: STEP });
    const from = points[2400][0];
    const part = detectAnomalies(points, { step: STEP, outputFrom: from });
    expect(part.scores).toEqual(all.scores.slice(2400));
    expect(part.expected).toEqual(all.expected.slice(2400));
    expect(part.band).toEqual(all.band.slice(2400));
    expect(part.baselines).toEqual(all.baselines.slice(2400));
    expect(part.windows).toEqual(all.windows);
    expect(part.windows.length).toBeGreaterThan(0);
    expect(part.explanations).toEqual(all.explanations);
  });

  it('finds a spike and reports it as one window with a high score', () => {
    const points = series(400, (i, v) => (i >= 300 && i < 304 ? v * 5 : v));
    const { windows, summary } = detectAnomalies(points, { step: STEP });
    expect(windows).toHaveLength(1);
    expect(windows[0].start).toBe(points[300][0]);
    expect(windows[0].end).toBe(points[303][0] + STEP);
    expect(windows[0].score).toBeGreaterThan(9);
    expect(summary).toMatchObject({ state: 'anomalous', anomalousWindows: 1 });
  });

  it('finds a drop to zero', () => {
    const points = series(400, (i, v) => (i >= 300 && i < 310 ? 0 : v));
    expect(detectAnomalies(points, { step: STEP }).windows).toHaveLength(1);
  });

  it.each([1.5, 1 / 1.5, 1.3, 0.77])(
    'reports a lasting change by %f as one window from its onset, closed once re-baselined',
    (factor) => {
      const points = noisy(900, (i, v) => (i >= 600 ? v * factor : v));
      const { windows, summary } = detectAnomalies(points, { step: STEP });
      expect(windows).toHaveLength(1);
      // It starts at the change (a few points of CUSUM onset slack) ...
      expect(windows[0].start).toBeGreaterThanOrEqual(points[595][0]);
      expect(windows[0].start).toBeLessThanOrEqual(points[602][0]);
      // ... and closes about REBASELINE_SECONDS later, not at the end of the range.
      const rebaseline = parameters.REBASELINE_SECONDS;
      expect(windows[0].end).toBeLessThanOrEqual(points[600][0] + rebaseline + 10 * STEP);
      expect(windows[0].end).toBeLessThan(points[899][0]);
      expect(summary.state).toBe('anomalous');
    },
  );

  it('treats factors the same at any traffic level', () => {
    const shape = (scale: number) =>
      noisy(900, (i, v) => (i >= 600 ? v * 1.5 : v) * scale).map(([t, v]): SeriesPoint => [t, v]);
    const low = detectAnomalies(shape(1 / 1000), { step: STEP }).windows;
    const high = detectAnomalies(shape(1000), { step: STEP }).windows;
    expect(low).toHaveLength(1);
    expect(high.map((w) => [w.start, w.end])).toEqual(low.map((w) => [w.start, w.end]));
  });

  it('ignores a single odd point (minimum duration)', () => {
    const points = series(400, (i, v) => (i === 300 ? v * 10 : v));
    expect(detectAnomalies(points, { step: STEP }).windows).toEqual([]);
  });

  it('keeps gaps as null scores and still finds a spike across missing points', () => {
    const points = series(400, (i, v) => (i % 10 === 0 ? null : i >= 300 && i < 305 ? v * 5 : v))
      // and drop some points from the range entirely
      .filter((_p, i) => i < 200 || i > 210);
    const { scores, windows } = detectAnomalies(points, { step: STEP });
    expect(scores).toHaveLength(points.length);
    points.forEach(([t, v], k) => {
      expect(scores[k][0]).toBe(t);
      if (v === null) expect(scores[k][1]).toBeNull();
    });
    expect(windows).toHaveLength(1);
  });

  it('returns scores within 0–10, null only before enough history or at gaps', () => {
    const points = series(500, (i, v) => (i % 50 === 0 ? v * 20 : i % 77 === 0 ? 0 : v));
    const { scores } = detectAnomalies(points, { step: STEP });
    for (const [, s] of scores.slice(20)) {
      expect(s).not.toBeNull();
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(10);
    }
    expect(scores[0][1]).toBeNull();
  });

  it('says unknown when there is too little data to judge', () => {
    expect(detectAnomalies(series(5), { step: STEP }).summary.state).toBe('unknown');
    expect(detectAnomalies([]).summary).toEqual({
      state: 'unknown',
      score: 0,
      maxScore: 0,
      anomalousWindows: 0,
    });
  });

  it('does not flag the hour of last week’s incident this week (seasonal history)', () => {
    const day = 86400;
    const step = 600;
    const points: SeriesPoint[] = [];
    for (let t = 0; t < 15 * day; t += step) {
      const daily = Math.exp(0.6 * Math.sin((2 * Math.PI * t) / day));
      const incident = t >= 5 * day + 3600 * 10 && t < 5 * day + 3600 * 12 ? 0.1 : 1;
      points.push([t, 100 * daily * incident * (1 + 0.03 * Math.sin(t / 7))]);
    }
    const { windows } = detectAnomalies(points, { step });
    expect(windows.length).toBeGreaterThanOrEqual(1);
    for (const w of windows) {
      expect(w.start).toBeLessThan(5 * day + 3600 * 14);
      expect(w.end).toBeGreaterThan(5 * day + 3600 * 9);
    }
  });

  describe('weekly pattern', () => {
    const day = 86400;
    const hour = 3600;
    const step = 300;
    /** 22 days from a Monday 00:00: a daily cycle, seeded noise, ×3 for 90 min at `events`. */
    function weeks(events: number[]): SeriesPoint[] {
      const rng = new Prng(7);
      const points: SeriesPoint[] = [];
      for (let t = 0; t < 22 * day; t += step) {
        const daily = Math.exp(0.5 * Math.sin((2 * Math.PI * t) / day));
        const event = events.some((e) => t >= e && t < e + 1.5 * hour) ? 3 : 1;
        points.push([t, 100 * daily * event * Math.exp(0.04 * rng.normal())]);
      }
      return points;
    }
    // An event lasting longer than REBASELINE_SECONDS is re-baselined; its end is then a
    // change back, reported within the hour after it (as the evaluation matches windows).
    const overlaps = (w: { start: number; end: number }, at: number) =>
      w.start < at + 2.5 * hour && w.end > at;
    /** Every Monday (days 1, 8, 15: day 0 is the warm-up) at 02:00. */
    const mondays = [1, 8, 15].map((d) => d * day + 2 * hour);

    it('flags a weekly job the first two times and not once two weeks show it', () => {
      const { windows } = detectAnomalies(weeks(mondays), { step });
      expect(windows.some((w) => overlaps(w, mondays[0]))).toBe(true);
      expect(windows.some((w) => overlaps(w, mondays[1]))).toBe(true);
      expect(windows.filter((w) => overlaps(w, mondays[2]))).toEqual([]);
      expect(windows.every((w) => mondays.some((at) => overlaps(w, at)))).toBe(true);
    });

    it('still flags the same event at another time of day in week 3', () => {
      const elsewhere = 15 * day + 14 * hour;
      const { windows } = detectAnomalies(weeks([...mondays, elsewhere]), { step });
      expect(windows.filter((w) => overlaps(w, mondays[2]))).toEqual([]);
      expect(windows.some((w) => overlaps(w, elsewhere))).toBe(true);
    });

    it('does not take an event seen one week earlier only for a pattern', () => {
      // Last week's incident at 14:00 (day 8), nothing two weeks ago: day 15 is anomalous.
      const once = [8 * day + 14 * hour, 15 * day + 14 * hour];
      const { windows } = detectAnomalies(weeks(once), { step });
      expect(windows.some((w) => overlaps(w, once[0]))).toBe(true);
      expect(windows.some((w) => overlaps(w, once[1]))).toBe(true);
    });

    it('still flags a slow drift in week 3 while it is under way', () => {
      // The weekly path has a drift detector too, or a ramp would hide behind it.
      const rampStart = 16 * day + 8 * hour;
      const rampEnd = rampStart + 6 * hour;
      const points = weeks([]).map(([t, v]): SeriesPoint => {
        const ramp = Math.min(1, Math.max(0, (t - rampStart) / (rampEnd - rampStart)));
        return [t, t < rampEnd + 2 * hour ? v! * Math.exp(Math.log(4) * ramp) : v];
      });
      const { windows } = detectAnomalies(points, { step });
      expect(windows.some((w) => w.start > rampStart && w.start < rampEnd + 2 * hour)).toBe(true);
    });
  });

  it.each([1, -1])('finds a spike of 4 σ lasting 3 points (direction %d)', (sign) => {
    // σ = 0.04 (4 % noise): ×e^(±0.16) for 3 points.
    const points = noisy(600, (i, v) => (i >= 400 && i < 403 ? v * Math.exp(sign * 0.16) : v));
    const { windows } = detectAnomalies(points, { step: STEP });
    expect(windows).toHaveLength(1);
    expect(windows[0].start).toBeGreaterThanOrEqual(points[396][0]);
    expect(windows[0].start).toBeLessThanOrEqual(points[402][0]);
  });

  it('raises nothing on ordinary noise, with missed scrapes', () => {
    // Three days at 60 s of 4 % noise around a daily cycle, a few points missing.
    const rng = new Prng(21);
    const points: SeriesPoint[] = [];
    for (let t = 0; t < 3 * 86400; t += STEP) {
      if (rng.chance(0.005)) continue;
      const daily = Math.exp(0.4 * Math.sin((2 * Math.PI * t) / 86400));
      points.push([t, rng.chance(0.003) ? null : 80 * daily * Math.exp(0.04 * rng.normal())]);
    }
    expect(detectAnomalies(points, { step: STEP }).windows).toEqual([]);
  });

  describe('counts (Poisson model)', () => {
    /** A sparse error counter: Poisson with mean 0.1 per minute, 3 days; `burst` points at 40. */
    function counter(burst: number[] = []): SeriesPoint[] {
      const rng = new Prng(5);
      const points: SeriesPoint[] = [];
      for (let i = 0; i < 3 * 1440; i++) {
        let k = 0;
        for (let p = rng.next(); p > Math.exp(-0.1); p *= rng.next()) k++;
        points.push([i * STEP, burst.includes(i) ? 40 : k]);
      }
      return points;
    }

    it('takes small non-negative integers for counts, and anything else for levels', () => {
      expect(isCountSeries([0, 0, 1, 0, 2, 0])).toBe(true);
      expect(isCountSeries([0.5, 1, 2])).toBe(false);
      expect(isCountSeries([2e8, 2.1e8])).toBe(false);
    });

    it('stays quiet on a sparse counter: two errors after none are not an incident', () => {
      const points = counter();
      expect(points.filter(([, v]) => v === 2).length).toBeGreaterThan(5);
      expect(detectAnomalies(points, { step: STEP }).windows).toEqual([]);
    });

    it('finds a burst of forty errors a minute', () => {
      const burst = [3000, 3001, 3002, 3003];
      const { windows } = detectAnomalies(counter(burst), { step: STEP });
      expect(windows).toHaveLength(1);
      expect(windows[0].start).toBeGreaterThanOrEqual(3000 * STEP - 2 * STEP);
      expect(windows[0].start).toBeLessThanOrEqual(3000 * STEP);
    });
  });

  it('learns a hard-edged daily shape: quiet by its third occurrence', () => {
    // Office hours 09:00–18:00 at ×3, every day, from a Monday (1970-01-05 is a Monday).
    const monday = 4 * 86400;
    const rng = new Prng(9);
    const points: SeriesPoint[] = [];
    for (let t = monday; t < monday + 5 * 86400; t += STEP) {
      const hour = (t % 86400) / 3600;
      const office = hour >= 9 && hour < 18 ? 3 : 1;
      points.push([t, 50 * office * Math.exp(0.04 * rng.normal())]);
    }
    const { windows } = detectAnomalies(points, { step: STEP });
    // The first two days may alert at the edges; from the third day on, nothing does.
    expect(windows.filter((w) => w.end > monday + 2 * 86400)).toEqual([]);
  });

  it('judges a weekend against earlier weekends although its level is far below a weekday', () => {
    // Office hours at ×3.5 every day and weekends at ×0.6, from a Monday, for two weeks;
    // the shape of a day is the same on weekdays and weekends, only the level differs.
    const monday = 4 * 86400;
    const rng = new Prng(5);
    const points: SeriesPoint[] = [];
    for (let t = monday; t < monday + 14 * 86400; t += STEP) {
      const hour = (t % 86400) / 3600;
      const weekend = (t - monday) % (7 * 86400) >= 5 * 86400 ? 0.6 : 1;
      const office = hour >= 9 && hour < 18 ? 3.5 : 1;
      points.push([t, 400 * weekend * office * Math.exp(0.03 * rng.normal())]);
    }
    const { windows } = detectAnomalies(points, { step: STEP });
    // The first weekend has no weekend history; the second is judged against it.
    expect(windows.filter((w) => w.end > monday + 12 * 86400)).toEqual([]);
  });

  it('measures the noise of weekends on weekends', () => {
    // 2 % noise on weekdays, 8 % at weekends: the band follows the day type.
    const monday = 4 * 86400;
    const rng = new Prng(6);
    const points: SeriesPoint[] = [];
    for (let t = monday; t < monday + 14 * 86400; t += 300) {
      const weekend = (t - monday) % (7 * 86400) >= 5 * 86400;
      points.push([t, 100 * Math.exp((weekend ? 0.08 : 0.02) * rng.normal())]);
    }
    const { band } = detectAnomalies(points, { step: 300 });
    const halfWidth = (at: number) => {
      const [, low, high] = band.find(([t]) => t === at)!;
      return Math.log(high! / low!) / 2;
    };
    const weekday = halfWidth(monday + 11 * 86400 + 12 * 3600); // Friday of week 2, noon
    // Saturday of week 2, 03:00: the trailing day is mostly Friday, the weekend's own noise
    // was last measured on the weekend before.
    const weekend = halfWidth(monday + 12 * 86400 + 3 * 3600);
    expect(weekend / weekday).toBeGreaterThan(2.5);
  });

  it('judges the first hour of seasonal history (a workload a day old)', () => {
    // A daily cycle at 300 s steps. Shapes are stored from the end of the first hour (the
    // trailing line's warm-up), so the seasonal shape begins at 25:00; a ×2 step at 25:20
    // falls before the residuals give a level of their own.
    const rng = new Prng(8);
    const step = 300;
    const seasonalFrom = 86400 + 3600;
    const change = seasonalFrom + 20 * 60;
    const points: SeriesPoint[] = [];
    for (let t = 0; t < 1.5 * 86400; t += step) {
      const daily = Math.exp(0.3 * Math.sin((2 * Math.PI * t) / 86400));
      points.push([t, 100 * daily * (t >= change ? 2 : 1) * Math.exp(0.03 * rng.normal())]);
    }
    const result = detectAnomalies(points, { step });
    const at = (t: number) => points.findIndex(([time]) => time === t);
    expect(result.baselines[at(seasonalFrom - step)]).toBe('trend');
    expect(result.baselines[at(seasonalFrom)]).toBe('seasonal');
    expect(result.windows).toHaveLength(1);
    expect(result.windows[0].start).toBeGreaterThanOrEqual(change - 2 * step);
    expect(result.windows[0].start).toBeLessThanOrEqual(change);
    const firstHour = result.expected.filter(([t]) => t >= seasonalFrom && t < change);
    expect(firstHour.length).toBe(4);
    expect(firstHour.every(([, v]) => v !== null)).toBe(true);
  });

  it('finds a ×2 step in a workload created an hour earlier (no seasonal history)', () => {
    const points = noisy(180, (i, v) => (i >= 60 ? v * 2 : v));
    const { windows } = detectAnomalies(points, { step: STEP });
    expect(windows).toHaveLength(1);
    expect(windows[0].start).toBeGreaterThanOrEqual(points[57][0]);
    expect(windows[0].start).toBeLessThanOrEqual(points[61][0]);
  });

  it('reports a slow drift (×2 over 12 hours) while it runs', () => {
    // Three days of history with a daily cycle, then a ramp from day 3, 08:00.
    const rng = new Prng(3);
    const step = 300;
    const rampStart = 3 * 86400 + 8 * 3600;
    const rampEnd = rampStart + 12 * 3600;
    const points: SeriesPoint[] = [];
    for (let t = 0; t < 4.5 * 86400; t += step) {
      const daily = Math.exp(0.4 * Math.sin((2 * Math.PI * t) / 86400));
      const ramp = Math.min(1, Math.max(0, (t - rampStart) / (rampEnd - rampStart)));
      points.push([t, 100 * daily * Math.exp(Math.log(2) * ramp + 0.04 * rng.normal())]);
    }
    const { windows } = detectAnomalies(points, { step });
    expect(windows.some((w) => w.start > rampStart && w.start < rampEnd)).toBe(true);
    expect(windows.every((w) => w.end > rampStart)).toBe(true);
  });

  describe('explanations', () => {
    it('explains a ×2 step an hour after creation against the trailing line', () => {
      const points = noisy(180, (i, v) => (i >= 60 ? v * 2 : v));
      const result = detectAnomalies(points, { step: STEP });
      expect(result.windows).toHaveLength(1);
      expect(result.explanations).toHaveLength(1);
      const [explanation] = result.explanations;
      expect(explanation.direction).toBe('up');
      expect(explanation.baseline).toBe('trend');
      expect(explanation.peak).toBeGreaterThanOrEqual(result.windows[0].start);
      expect(explanation.peak).toBeLessThan(result.windows[0].end);
      expect(explanation.observed).toBe(points.find(([t]) => t === explanation.peak)![1]);
      // Judged against the level from before the step (100), in the series' own units.
      expect(explanation.expected).toBeGreaterThan(92);
      expect(explanation.expected).toBeLessThan(108);
      expect(explanation.factor).toBeGreaterThan(1.8);
      expect(explanation.factor).toBeLessThan(2.4);
      expect(explanation.low!).toBeLessThan(explanation.expected!);
      expect(explanation.high!).toBeGreaterThan(explanation.expected!);
      expect(explanation.high!).toBeLessThan(explanation.observed!);
    });

    it('gives the expectation and band of every point, in the series’ own units', () => {
      const points = noisy(24 * 60 * 3, (i, v) => (i === 100 ? null : v));
      const { expected, band, baselines, scores } = detectAnomalies(points, { step: STEP });
      expect(expected.map(([t]) => t)).toEqual(points.map(([t]) => t));
      expect(band.map(([t]) => t)).toEqual(points.map(([t]) => t));
      expect(baselines).toHaveLength(points.length);
      // Judged exactly where there is a score; a gap is not judged.
      expect(expected.every(([, e], i) => (e === null) === (scores[i][1] === null))).toBe(true);
      expect(expected[100][1]).toBeNull();
      expect(band[100]).toEqual([points[100][0], null, null]);
      // The first day has no earlier day: the trailing line; later days the seasonal shape.
      expect(baselines[600]).toBe('trend');
      expect(baselines[2 * 24 * 60 + 600]).toBe('seasonal');
      let inside = 0;
      let judged = 0;
      points.forEach(([, v], i) => {
        const [, low, high] = band[i];
        if (v === null || low === null || high === null) return;
        judged++;
        expect(low).toBeLessThanOrEqual(expected[i][1]!);
        expect(high).toBeGreaterThanOrEqual(expected[i][1]!);
        if (v >= low && v <= high) inside++;
      });
      // 4 % noise against a band of ±2.2 σ (σ ≈ 4 %): nearly every point is inside.
      expect(inside / judged).toBeGreaterThan(0.95);
      const e = expected[2 * 24 * 60 + 600][1]!;
      expect(e).toBeGreaterThan(95);
      expect(e).toBeLessThan(105);
    });

    it('explains a drop against the seasonal shape of earlier days', () => {
      const start = 4 * 24 * 60 + 600;
      const points = noisy(5 * 24 * 60, (i, v) => (i >= start && i < start + 30 ? v / 2 : v));
      const result = detectAnomalies(points, { step: STEP });
      const k = result.windows.findIndex((w) => w.start >= points[start - 5][0]);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(result.explanations[k]).toMatchObject({ direction: 'down', baseline: 'seasonal' });
      expect(result.explanations[k].factor).toBeGreaterThan(0.4);
      expect(result.explanations[k].factor).toBeLessThan(0.6);
    });

    it('keeps the band of a count at or above zero', () => {
      const points: SeriesPoint[] = [];
      const rng = new Prng(5);
      for (let i = 0; i < 600; i++) {
        points.push([
          1_700_000_000 + i * STEP,
          i >= 400 && i < 410 ? 40 : rng.next() < 0.1 ? 1 : 0,
        ]);
      }
      const result = detectAnomalies(points, { step: STEP });
      expect(result.band.every(([, low]) => low === null || low >= 0)).toBe(true);
      expect(result.explanations.length).toBeGreaterThan(0);
      const explanation = result.explanations.find((x) => x.observed === 40)!;
      expect(explanation).toMatchObject({ direction: 'up' });
      expect(explanation.expected).toBeLessThan(1);
    });
  });

  it('rejects a step that is not positive', () => {
    expect(() => detectAnomalies(series(10), { step: 0 })).toThrow(RangeError);
  });
});

describe('inferStep', () => {
  it('uses the median spacing, so gaps do not change it', () => {
    expect(
      inferStep([
        [0, 1],
        [60, 1],
        [120, 1],
        [600, 1],
        [660, 1],
      ]),
    ).toBe(60);
  });
});

describe('SlidingMedian', () => {
  it('keeps the median and MAD of the last values, skipping NaN', () => {
    const m = new SlidingMedian(3);
    [1, 100, NaN, 5, 7].forEach((v) => m.push(v));
    expect(m.count).toBe(2);
    expect(m.median()).toBe(6);
    expect(m.mad()).toBe(1);
    expect(medianOf([3, 1, 2])).toBe(2);
  });

  it('computes the MAD exactly as the median of the absolute deviations', () => {
    const rng = new Prng(1);
    for (const capacity of [1, 2, 5, 24, 25]) {
      const m = new SlidingMedian(capacity);
      const window: number[] = [];
      for (let i = 0; i < 200; i++) {
        // Ties and gaps included.
        const value = rng.chance(0.1) ? NaN : Math.round(rng.normal() * 4) / 2;
        m.push(value);
        window.push(value);
        const present = window.slice(-capacity).filter((v) => !Number.isNaN(v));
        const median = medianOf(present);
        const expected = medianOf(present.map((v) => Math.abs(v - median)));
        if (present.length === 0) expect(m.mad()).toBeNaN();
        else expect(m.mad()).toBe(expected);
      }
    }
  });
});
