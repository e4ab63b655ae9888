import type { SeriesPoint } from '../../../../backends/anomaly-detection/src/detector';
import {
  analyzeResource,
  chooseStep,
  combineScores,
  MAX_POINTS,
} from '../../../../backends/anomaly-detection/src/service/analyze-resource';
import type { AnomalyRequest } from '../../../../backends/anomaly-detection/src/service/parse-anomaly-request';
import type { MetricQueries } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import { DEFAULT_QUERIES } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import {
  type MetricSource,
  SourceTimeoutError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';

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
function fakeSource(spikeAt: number, queries: string[] = []): MetricSource {
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

describe('analyzeResource', () => {
  it('scores each metric and names the metric driving each window', async () => {
    const queries: string[] = [];
    const report = await analyzeResource(REQUEST, fakeSource(1795301800, queries), QUERIES);
    expect(queries).toEqual(['cpu{pod="web"}', 'memory{pod="web"}', 'req']);
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

  it('reports unknown, not normal, when there is no data', async () => {
    const empty: MetricSource = { kind: 'prometheus', queryRange: async () => [] };
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
    const failing: MetricSource = {
      kind: 'prometheus',
      queryRange: async (query) => {
        if (query.startsWith('memory')) throw new SourceTimeoutError('slow');
        return [];
      },
    };
    await expect(analyzeResource(REQUEST, failing, QUERIES)).rejects.toThrow(SourceTimeoutError);
  });
});

describe('chooseStep', () => {
  it('keeps the asked step when the points fit and coarsens it when they do not', () => {
    expect(chooseStep(REQUEST)).toBe(60);
    const month = { ...REQUEST, from: REQUEST.to - 31 * 86400, step: 1 };
    const step = chooseStep(month);
    expect((month.to - month.from + 86400) / step).toBeLessThanOrEqual(MAX_POINTS);
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
