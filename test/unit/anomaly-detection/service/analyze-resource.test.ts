import type { SeriesPoint } from '../../../../backends/anomaly-detection/src/detector';
import {
  analyzeResource,
  combineScores,
  MAX_CONCURRENT_QUERIES,
} from '../../../../backends/anomaly-detection/src/service/analyze-resource';
import {
  chooseStep,
  MAX_POINTS,
  MAX_TOTAL_POINTS,
  planQueries,
} from '../../../../backends/anomaly-detection/src/service/plan-queries';
import type { AnomalyRequest } from '../../../../backends/anomaly-detection/src/service/parse-anomaly-request';
import type { MetricQueries } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import {
  DEFAULT_QUERIES,
  mergeMetricQueries,
  NAME_PATTERN_FALLBACK,
  renderQuery,
} from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import {
  type RangeSource,
  SourceTimeoutError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';
import {
  SampleSource,
  sampleIncidents,
} from '../../../../backends/anomaly-detection/src/sources/sample-source';

const HOUR = 3600;
const DAY = 86400;

const REQUEST: AnomalyRequest = {
  resource: { group: '', kind: 'Pod', namespace: 'ns', name: 'web' },
  from: 1795300000,
  to: 1795303600,
  step: 60,
};

const QUERIES: MetricQueries = {
  ...DEFAULT_QUERIES,
  Pod: [
    { metric: 'cpu', label: 'CPU', unit: 'cores', query: 'cpu{pod="{{name}}"}' },
    { metric: 'memory', label: 'Memory', unit: 'bytes', query: 'memory{pod="{{name}}"}' },
    { metric: 'requests', label: 'Requests', unit: 'req/s', query: 'req', optional: true },
  ],
};

/** A source returning a flat series, with a spike in the CPU series at `spikeAt`. */
function fakeSource(spikeAt: number, queries: string[] = []): RangeSource {
  return {
    kind: 'prometheus',
    async queryRange(query, from, to, step) {
      queries.push(query);
      if (query === 'req') return [];
      const points: SeriesPoint[] = [];
      for (let t = from; t <= to; t += step) {
        const spike = query.startsWith('cpu') && t >= spikeAt && t < spikeAt + 600;
        points.push([t, (spike ? 40 : 10) + Math.sin(t / 300)]);
      }
      return points;
    },
  };
}

/**
 * A queryRange answering `level(query, t)` at every step with a 3 % wiggle, and no points
 * for a query `level` does not know (undefined).
 */
function wiggling(
  level: (query: string, t: number) => number | undefined,
): RangeSource['queryRange'] {
  return async (query, from, to, step) => {
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t += step) {
      const value = level(query, t);
      if (value !== undefined) points.push([t, value * (1 + 0.03 * Math.sin(t / 97))]);
    }
    return points;
  };
}

describe('analyzeResource', () => {
  it('scores each metric and names the metric driving each window', async () => {
    const queries: string[] = [];
    const report = await analyzeResource(REQUEST, fakeSource(1795301800, queries), QUERIES);
    expect([...new Set(queries)]).toEqual(['cpu{pod="web"}', 'memory{pod="web"}', 'req']);
    expect(report.range).toEqual({ from: 1795300000, to: 1795303600, step: 60 });
    expect(report.series.map((s) => s.metric)).toEqual(['cpu', 'memory']); // optional, no data
    expect(report.series[0].points).toHaveLength(61);
    expect(report.series[0].points[0][0]).toBe(1795300000);
    expect(report.scores).toHaveLength(61);
    expect(report.windows).toHaveLength(1);
    expect(report.windows[0]).toMatchObject({ metric: 'cpu' });
    expect(report.windows[0].start).toBeGreaterThanOrEqual(1795301800);
    expect(report.summary).toMatchObject({ state: 'anomalous', anomalousWindows: 1 });
    expect(report.summary.maxScore).toBe(report.windows[0].score);
  });

  it('explains a ×1.6 CPU step: direction, observed, expected, band, factor and query', async () => {
    const stepAt = REQUEST.from + 1800;
    const source: RangeSource = {
      kind: 'prometheus',
      queryRange: wiggling((query, t) =>
        query.startsWith('cpu')
          ? t >= stepAt
            ? 0.32
            : 0.2
          : query.startsWith('memory')
            ? 2e8
            : undefined,
      ),
    };
    const report = await analyzeResource(REQUEST, source, QUERIES);
    expect(report.windows).toHaveLength(1);
    const [window] = report.windows;
    expect(window.metric).toBe('cpu');
    expect(window.drivers).toHaveLength(1);
    const [driver] = window.drivers;
    expect(driver).toMatchObject({
      metric: 'cpu',
      label: 'CPU',
      unit: 'cores',
      direction: 'up',
      score: window.score,
      query: renderQuery(QUERIES.Pod[0].query, {
        namespace: 'ns',
        name: 'web',
        rateIntervalSeconds: 300,
      }),
    });
    expect(driver.query).toBe('cpu{pod="web"}');
    expect(driver.peak).toBeGreaterThanOrEqual(window.start);
    expect(driver.peak).toBeLessThan(window.end);
    expect(driver.factor).toBeGreaterThan(1.5);
    expect(driver.factor).toBeLessThan(1.7);
    expect(driver.expected).toBeGreaterThan(0.19);
    expect(driver.expected).toBeLessThan(0.21);
    expect(driver.observed! / 0.2).toBeGreaterThan(1.5);
    expect(driver.observed! / 0.2).toBeLessThan(1.7);
    expect(driver.low!).toBeLessThan(driver.expected!);
    expect(driver.high!).toBeGreaterThan(driver.expected!);
    expect(driver.high!).toBeLessThan(driver.observed!);
    // Each series carries its own scores, expectation and band, on the response's timestamps.
    const cpu = report.series[0];
    expect(cpu.query).toBe('cpu{pod="web"}');
    const times = cpu.points.map(([t]) => t);
    expect(cpu.scores.map(([t]) => t)).toEqual(times);
    expect(cpu.expected.map(([t]) => t)).toEqual(times);
    expect(cpu.band.map(([t]) => t)).toEqual(times);
    const peak = cpu.scores.find(([t]) => t === driver.peak)!;
    expect(Math.abs(peak[1]! - window.score)).toBeLessThanOrEqual(0.05);
    expect(report.series[1].scores.every(([, s]) => s === null || s < 5)).toBe(true);
    // A fortnight of history, judged against the earlier days.
    expect(cpu.history.seconds).toBeGreaterThanOrEqual(14 * DAY);
    expect(cpu.history.baselines.seasonal).toBe(61);
    expect(cpu.history.baselines.trend).toBe(0);
  });

  it('names every metric whose window overlaps, its own metric first', async () => {
    const stepAt = REQUEST.from + 1800;
    const up = (t: number) => t >= stepAt && t < stepAt + 900;
    const source: RangeSource = {
      kind: 'prometheus',
      queryRange: wiggling((query, t) =>
        query.startsWith('cpu')
          ? up(t)
            ? 0.4
            : 0.2
          : query.startsWith('memory')
            ? up(t)
              ? 1.3e8
              : 2e8
            : undefined,
      ),
    };
    const report = await analyzeResource(REQUEST, source, QUERIES);
    expect(report.windows.map((w) => w.metric).sort()).toEqual(['cpu', 'memory']);
    for (const w of report.windows) {
      expect(w.drivers.map((d) => d.metric)).toEqual(
        w.metric === 'cpu' ? ['cpu', 'memory'] : ['memory', 'cpu'],
      );
    }
    const memory = report.windows.find((w) => w.metric === 'memory')!.drivers[0];
    expect(memory).toMatchObject({ direction: 'down', unit: 'bytes' });
    expect(memory.factor).toBeGreaterThan(0.6);
    expect(memory.factor).toBeLessThan(0.7);
  });

  it('says how much history there was: a workload created an hour before the range', async () => {
    const created = REQUEST.from - HOUR;
    const source: RangeSource = {
      kind: 'prometheus',
      async queryRange(_query, from, to, step) {
        const points: SeriesPoint[] = [];
        for (let t = Math.max(from, created); t <= to; t += step) {
          points.push([t, 0.2 * (1 + 0.03 * Math.sin(t / 97))]);
        }
        return points;
      },
    };
    const report = await analyzeResource(REQUEST, source, QUERIES);
    expect(report.series[0].history).toEqual({
      since: created,
      seconds: HOUR,
      baselines: { seasonal: 0, trend: 61 },
    });
  });

  it.each([
    // Created 26 hours before the range: the day-ago history holds it, judged seasonally.
    ['a day', 26 * HOUR, 26 * HOUR],
    // Created 8 days before: the history read reaches back to the week-ago range's
    // 12-hour warm-up (nothing is read between the lags), not to the creation.
    ['a week', 8 * DAY, 7 * DAY + 12 * HOUR],
  ])(
    'says how much history there was: a workload created %s before the range',
    async (_age, age, seconds) => {
      const created = REQUEST.from - age;
      const source: RangeSource = {
        kind: 'prometheus',
        async queryRange(_query, from, to, step) {
          const points: SeriesPoint[] = [];
          // Prometheus' grid: from + k·step, from the creation on.
          const first = from + Math.max(0, Math.ceil((created - from) / step)) * step;
          for (let t = first; t <= to; t += step) {
            points.push([t, 0.2 * (1 + 0.03 * Math.sin(t / 97))]);
          }
          return points;
        },
      };
      const report = await analyzeResource(REQUEST, source, QUERIES);
      expect(report.series[0].history).toEqual({
        since: REQUEST.from - seconds,
        seconds,
        baselines: { seasonal: 61, trend: 0 },
      });
    },
  );

  it('reports unknown, not normal, when there is no data', async () => {
    const empty: RangeSource = { kind: 'prometheus', queryRange: async () => [] };
    const report = await analyzeResource(REQUEST, empty, QUERIES);
    expect(report.summary).toEqual({
      state: 'unknown',
      score: 0,
      maxScore: 0,
      anomalousWindows: 0,
    });
    expect(report.series[0].points.every(([, v]) => v === null)).toBe(true);
  });

  it('fails as a whole when one query fails', async () => {
    const failing: RangeSource = {
      kind: 'prometheus',
      queryRange: async (query) => {
        if (query.startsWith('memory')) throw new SourceTimeoutError('slow');
        return [];
      },
    };
    await expect(analyzeResource(REQUEST, failing, QUERIES)).rejects.toThrow(SourceTimeoutError);
  });

  it('fails as a whole when one chunk of history fails, and asks no more after it', async () => {
    const source = new RecordingSource(
      () => 10,
      (from) => from < REQUEST.from - 10 * DAY,
    );
    await expect(analyzeResource(REQUEST, source, QUERIES)).rejects.toThrow(SourceTimeoutError);
    // 3 metrics × 5 ranges; the first query (the 14-day lag of cpu) fails, so no worker
    // starts another after the first four.
    expect(source.calls.length).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
  });
});

/** A source that records every call and counts the calls in flight. */
class RecordingSource implements RangeSource {
  readonly kind = 'prometheus';
  readonly calls: { query: string; from: number; to: number; step: number }[] = [];
  maxInFlight = 0;
  private inFlight = 0;

  constructor(
    private readonly value: (query: string, t: number) => number | null,
    private readonly fails: (from: number) => boolean = () => false,
  ) {}

  async queryRange(query: string, from: number, to: number, step: number): Promise<SeriesPoint[]> {
    this.calls.push({ query, from, to, step });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Let the other queries of the request start (or be held back) before answering.
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
    if (this.fails(from)) throw new SourceTimeoutError('slow');
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t += step) points.push([t, this.value(query, t)]);
    return points;
  }

  /** The ranges asked for one query, ascending. */
  rangesOf(query: string): [number, number][] {
    return this.calls
      .filter((c) => c.query === query)
      .map((c): [number, number] => [c.from, c.to])
      .sort((a, b) => a[0] - b[0]);
  }
}

/** A daily cycle around 10 with ±3 % deterministic wiggle. */
function dailyCycle(t: number): number {
  return 10 * Math.exp(0.5 * Math.sin((2 * Math.PI * t) / DAY)) * (1 + 0.03 * Math.sin(t / 170));
}

describe('analyzeResource: the history it fetches', () => {
  // Not a multiple of 60: the grid is anchored at `from`, not at the epoch.
  const from = 1795300000;

  it('fetches [from − 1 day, to] and, per lag, the range a lag earlier with a long window before it', async () => {
    const source = new RecordingSource(() => 10);
    const to = from + 6 * HOUR;
    const report = await analyzeResource({ ...REQUEST, from, to }, source, QUERIES);
    expect(report.range).toEqual({ from, to, step: 60 });
    for (const query of ['cpu{pod="web"}', 'memory{pod="web"}', 'req']) {
      expect(source.rangesOf(query)).toEqual([
        [from - 14 * DAY - 12 * HOUR, to - 14 * DAY],
        [from - 7 * DAY - 12 * HOUR, to - 7 * DAY],
        [from - 3 * DAY - 12 * HOUR, to - 3 * DAY],
        [from - 2 * DAY - 12 * HOUR, to - 2 * DAY],
        // [from − 1 day, to] merged with the one-day lag's [from − 1.5 days, to − 1 day].
        [from - DAY - 12 * HOUR, to],
      ]);
    }
    expect(source.calls.every((c) => c.step === 60)).toBe(true);
    // Only [from, to] is reported.
    expect(report.series[0].points[0][0]).toBe(from);
    expect(report.series[0].points).toHaveLength(361);
    expect(report.scores).toHaveLength(361);
  });

  it('splits a 7-day range into chunks of at most MAX_POINTS on one grid, keeping the step', async () => {
    const source = new RecordingSource(() => 10);
    // `to` off the grid: the last point is the last grid point before it.
    const to = from + 7 * DAY + 30;
    const report = await analyzeResource({ ...REQUEST, from, to }, source, QUERIES);
    expect(report.range.step).toBe(60);
    const start = from - 14 * DAY - 12 * HOUR; // every segment merged into one
    const chunk = MAX_POINTS * 60;
    expect(source.rangesOf('cpu{pod="web"}')).toEqual([
      [start, start + chunk - 60],
      [start + chunk, start + 2 * chunk - 60],
      [start + 2 * chunk, from + 7 * DAY],
    ]);
    for (const c of source.calls) {
      expect(c.step).toBe(60);
      expect((c.to - c.from) / 60 + 1).toBeLessThanOrEqual(MAX_POINTS);
      expect(Number.isInteger((from - c.from) / 60)).toBe(true);
    }
    expect(report.series[0].points).toHaveLength(7 * 1440 + 1);
  });

  it('coarsens the step only as much as MAX_TOTAL_POINTS needs, for a 31-day range', () => {
    const month = { ...REQUEST, from, to: from + 31 * DAY, step: 60 };
    const plan = planQueries(month);
    expect(plan.step).toBeGreaterThan(60);
    expect(plan.points).toBeLessThanOrEqual(MAX_TOTAL_POINTS);
    // One second finer does not fit: it is coarsened to the same step.
    expect(planQueries({ ...month, step: plan.step - 1 }).step).toBe(plan.step);
    expect(plan.ranges[0].start).toBe(from - Math.ceil((14.5 * DAY) / plan.step) * plan.step);
    for (const { start, end } of plan.ranges) {
      expect((end - start) / plan.step + 1).toBeLessThanOrEqual(MAX_POINTS);
      expect(Number.isInteger((from - start) / plan.step)).toBe(true);
    }
    expect(chooseStep(month)).toBe(plan.step);
    // A fine step over a short range is coarsened the same way.
    expect(chooseStep({ ...REQUEST, from, to: from + 6 * HOUR, step: 1 })).toBeGreaterThan(1);
  });

  it('keeps at most MAX_CONCURRENT_QUERIES queries in flight', async () => {
    const source = new RecordingSource(() => 10);
    await analyzeResource({ ...REQUEST, from, to: from + 6 * HOUR }, source, QUERIES);
    expect(source.calls).toHaveLength(15);
    expect(source.maxInFlight).toBe(MAX_CONCURRENT_QUERIES);
  });

  it('reports a weekly-recurring event as normal when the two previous weeks show it', async () => {
    // A batch job at 02:00 UTC on one weekday, ×3 for 90 minutes, every week.
    const jobAt = Math.floor(from / DAY) * DAY + 2 * HOUR + DAY; // within the range below
    const weekly = (t: number) =>
      [0, 1, 2].some((w) => t >= jobAt - w * 7 * DAY && t < jobAt - w * 7 * DAY + 1.5 * HOUR);
    const range = { ...REQUEST, from: jobAt - 6 * HOUR, to: jobAt + 6 * HOUR };
    const recurring = new RecordingSource((q, t) =>
      q === 'req' ? null : dailyCycle(t) * (weekly(t) ? 3 : 1),
    );
    const report = await analyzeResource(range, recurring, QUERIES);
    expect(report.summary.state).toBe('normal');
    expect(report.windows).toEqual([]);
    // The same event with no history of it is an anomaly.
    const once = new RecordingSource((q, t) =>
      q === 'req' ? null : dailyCycle(t) * (t >= jobAt && t < jobAt + 1.5 * HOUR ? 3 : 1),
    );
    const flagged = await analyzeResource(range, once, QUERIES);
    expect(flagged.summary.state).toBe('anomalous');
    expect(flagged.windows.some((w) => w.start < jobAt + 1.5 * HOUR && w.end > jobAt)).toBe(true);
  });

  it.each([
    ['six hours', 6 * HOUR],
    ['a day', DAY],
  ])('shows the sample source’s incidents as windows over %s', async (_name, span) => {
    const range = {
      resource: { group: 'apps', kind: 'Deployment' as const, namespace: 'ns', name: 'web' },
      from,
      to: from + span,
      step: 60,
    };
    const report = await analyzeResource(range, new SampleSource(), DEFAULT_QUERIES);
    const incidents = sampleIncidents(range.from, range.to).filter(
      (i) => i.start >= range.from && i.end <= range.to,
    );
    expect(incidents).toHaveLength(span === DAY ? 4 : 1);
    const cpu = report.windows.filter((w) => w.metric === 'cpu');
    for (const incident of incidents) {
      expect(cpu.some((w) => w.start < incident.end && w.end > incident.start)).toBe(true);
    }
    expect(report.summary.state).toBe('anomalous');
  });
});

describe('sampleIncidents', () => {
  it('never puts an incident at the same time of day as one on the days the detector compares', () => {
    const from = 1795300000;
    const incidents = sampleIncidents(from, from + 14 * DAY);
    const inIncident = (t: number) => incidents.some((i) => t >= i.start && t < i.end);
    for (const { start, end } of incidents.filter((i) => i.start >= from + 7 * DAY)) {
      for (const lag of [1, 2, 3, 7].map((d) => d * DAY)) {
        for (let t = start; t < end; t += 60) expect(inIncident(t - lag)).toBe(false);
      }
    }
  });
});

describe('chooseStep', () => {
  it('keeps the asked step when the points fit', () => {
    expect(chooseStep(REQUEST)).toBe(60);
    expect(chooseStep({ ...REQUEST, step: undefined })).toBe(60);
  });
});

describe('combineScores', () => {
  it('takes the per-point maximum and keeps gaps only where every metric has one', () => {
    expect(
      combineScores([
        [
          [0, 1],
          [60, null],
          [120, null],
        ],
        [
          [0, 3.456],
          [60, 2],
          [120, null],
        ],
      ]),
    ).toEqual([
      [0, 3.46],
      [60, 2],
      [120, null],
    ]);
  });
});

describe('analyzeResource: how the pods are selected', () => {
  const from = 1795300000;
  const deployment: AnomalyRequest = {
    resource: { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
    from,
    to: from + HOUR,
    step: 60,
  };
  const isCheck = (query: string) => query.startsWith('count(last_over_time(');

  it('uses the ownership queries when kube-state-metrics has ownership series for the workload', async () => {
    const source = new RecordingSource(() => 1);
    const report = await analyzeResource(deployment, source, DEFAULT_QUERIES);
    expect(report.podSelection).toBe('kube-state-metrics');
    // One check, first, at the last fetched point, looking back over every fetched point
    // and the 300 s rate() range before the first.
    const checks = source.calls.filter((c) => isCheck(c.query));
    const start = Math.min(...source.calls.map((c) => c.from));
    expect(checks).toEqual([
      {
        query:
          'count(last_over_time(kube_replicaset_owner{namespace="shop", owner_kind="Deployment", ' +
          `owner_name="web"}[${from + HOUR - start + 300}s]))`,
        from: from + HOUR,
        to: from + HOUR,
        step: 60,
      },
    ]);
    expect(source.calls[0]).toBe(checks[0]);
    const queries = new Set(source.calls.filter((c) => !isCheck(c.query)).map((c) => c.query));
    expect([...queries].sort()).toEqual(
      DEFAULT_QUERIES.Deployment.map((d) => renderQuery(d.query, vars('shop', 'web'))).sort(),
    );
  });

  it('falls back to the name pattern when the check finds no ownership series', async () => {
    const source = new RecordingSource((query) => (isCheck(query) ? null : 1));
    const report = await analyzeResource(deployment, source, DEFAULT_QUERIES);
    expect(report.podSelection).toBe('name-pattern');
    const queries = new Set(source.calls.filter((c) => !isCheck(c.query)).map((c) => c.query));
    expect([...queries].sort()).toEqual(
      NAME_PATTERN_FALLBACK.Deployment!.queries.map((d) =>
        renderQuery(d.query, vars('shop', 'web')),
      ).sort(),
    );
    expect([...queries].every((q) => q.includes('pod=~"web-[a-z0-9]+-[a-z0-9]+"'))).toBe(true);
    // An empty answer (no series at all) is "absent" too.
    const empty: RangeSource = {
      kind: 'prometheus',
      queryRange: async (query) => (isCheck(query) ? [] : [[from, 1]]),
    };
    expect((await analyzeResource(deployment, empty, DEFAULT_QUERIES)).podSelection).toBe(
      'name-pattern',
    );
  });

  it('fails the request, without querying the metrics, when the check fails', async () => {
    const failing = new RecordingSource(
      () => 1,
      () => true,
    );
    await expect(analyzeResource(deployment, failing, DEFAULT_QUERIES)).rejects.toThrow(
      SourceTimeoutError,
    );
    expect(failing.calls).toHaveLength(1);
    expect(isCheck(failing.calls[0].query)).toBe(true);
  });

  it('uses a queries file’s kind as written, and checks nothing for a Pod or an Application', async () => {
    const file = mergeMetricQueries('q.yaml', {
      Deployment: [{ metric: 'cpu', label: 'CPU', unit: 'cores', query: 'cpu{pod="{{name}}"}' }],
    });
    const cases: [AnomalyRequest['resource'], string][] = [
      [deployment.resource, 'queries-file'],
      [{ group: '', kind: 'Pod', namespace: 'shop', name: 'web' }, 'name-pattern'],
      [
        { group: 'argoproj.io', kind: 'Application', namespace: 'argocd', name: 'web' },
        'kube-state-metrics',
      ],
    ];
    for (const [resource, podSelection] of cases) {
      const source = new RecordingSource(() => 1);
      const report = await analyzeResource({ ...deployment, resource }, source, file);
      expect(report.podSelection).toBe(podSelection);
      expect(source.calls.some((c) => isCheck(c.query))).toBe(false);
    }
  });

  it('answers the field with the sample source too', async () => {
    const report = await analyzeResource(deployment, new SampleSource(), DEFAULT_QUERIES);
    expect(report.podSelection).toBe('kube-state-metrics');
  });
});

function vars(namespace: string, name: string) {
  return { namespace, name, rateIntervalSeconds: 300 };
}
