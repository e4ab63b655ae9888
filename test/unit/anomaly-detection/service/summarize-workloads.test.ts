import type { SeriesPoint } from '../../../../backends/anomaly-detection/src/detector';
import { analyzeResource } from '../../../../backends/anomaly-detection/src/service/analyze-resource';
import { createAnomalyServer } from '../../../../backends/anomaly-detection/src/service/anomaly-server';
import { planQueries } from '../../../../backends/anomaly-detection/src/service/plan-queries';
import {
  MAX_SUMMARY_WORKLOADS,
  parseSummaryRequest,
  type SummaryRequest,
  summarizeWorkloads,
} from '../../../../backends/anomaly-detection/src/service/summarize-workloads';
import {
  DEFAULT_QUERIES,
  mergeMetricQueries,
  podWorkloads,
  workloadSummaryQueries,
} from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import {
  type MetricSource,
  type SeriesGroup,
  SourceUnavailableError,
} from '../../../../backends/anomaly-detection/src/sources/metric-source';
import { groupRangeResponse } from '../../../../backends/anomaly-detection/src/sources/prometheus-source';
import {
  SampleSource,
  sampleIncidents,
} from '../../../../backends/anomaly-detection/src/sources/sample-source';

/** An hour with one of the sample data's incidents in its middle. */
const FROM = sampleIncidents(1795300000, 1795300000 + 86400)[0].start - 1800;
const TO = FROM + 3600;

const WEB = { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' } as const;
const DB = { group: 'apps', kind: 'StatefulSet', namespace: 'shop', name: 'web-db' } as const;
const AGENT = { group: 'apps', kind: 'DaemonSet', namespace: 'ops', name: 'agent' } as const;

const query = (params: [string, string][]) => new URLSearchParams(params);
const range: [string, string][] = [
  ['from', String(FROM)],
  ['to', String(TO)],
];

describe('parseSummaryRequest', () => {
  it('reads repeated workloads as <group>/<kind>/<namespace>/<name>, and the range', () => {
    expect(
      parseSummaryRequest(
        query([
          ['workload', 'apps/Deployment/shop/web'],
          ['workload', 'argoproj.io/Rollout/shop/canary'],
          ...range,
          ['step', '30'],
        ]),
      ),
    ).toEqual({
      workloads: [
        { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
        { group: 'argoproj.io', kind: 'Rollout', namespace: 'shop', name: 'canary' },
      ],
      from: FROM,
      to: TO,
      step: 30,
    });
  });

  it.each([
    ['no workload', [...range], 'workload is required'],
    [
      'a missing part',
      [['workload', 'apps/Deployment/web'], ...range],
      'workload must be <group>/<kind>/<namespace>/<name>',
    ],
    [
      'an extra part',
      [['workload', 'apps/Deployment/shop/web/0'], ...range],
      'workload must be <group>/<kind>/<namespace>/<name>',
    ],
    [
      'a kind the summary does not score',
      [['workload', '/Pod/shop/web-0'], ...range],
      'kind "Pod" is not summarised (supported: Deployment, Rollout, StatefulSet, DaemonSet, ReplicaSet)',
    ],
    [
      'a wrong group',
      [['workload', 'extensions/Deployment/shop/web'], ...range],
      'group of a Deployment must be "apps"',
    ],
    [
      'a bad namespace',
      [['workload', 'apps/Deployment/Shop/web'], ...range],
      'workload must be a Kubernetes namespace name',
    ],
    [
      'a name that is not a Kubernetes name',
      [['workload', 'apps/Deployment/shop/web"})'], ...range],
      'workload must be a Kubernetes object name',
    ],
    [
      'a repeated workload',
      [
        ['workload', 'apps/Deployment/shop/web'],
        ['workload', 'apps/Deployment/shop/web'],
        ...range,
      ],
      'a workload is given more than once',
    ],
    [
      'a range of more than a day',
      [
        ['workload', 'apps/Deployment/shop/web'],
        ['from', String(TO - 86401)],
        ['to', String(TO)],
      ],
      "a summary's range must be at most 86400 seconds",
    ],
    [
      'from after to',
      [
        ['workload', 'apps/Deployment/shop/web'],
        ['from', String(TO)],
        ['to', String(FROM)],
      ],
      'from must be before to',
    ],
  ] as [string, [string, string][], string][])('refuses %s with 400', (_, params, message) => {
    expect(() => parseSummaryRequest(query(params))).toThrow(message);
  });

  it(`refuses more than ${MAX_SUMMARY_WORKLOADS} workloads, and says to ask in batches`, () => {
    const many = Array.from({ length: MAX_SUMMARY_WORKLOADS + 1 }, (_, i): [string, string] => [
      'workload',
      `apps/Deployment/shop/web-${i}`,
    ]);
    expect(() => parseSummaryRequest(query([...many, ...range]))).toThrow(
      `at most ${MAX_SUMMARY_WORKLOADS} workloads per request (got ${MAX_SUMMARY_WORKLOADS + 1}); ask in batches`,
    );
    expect(parseSummaryRequest(query([...many.slice(1), ...range])).workloads).toHaveLength(
      MAX_SUMMARY_WORKLOADS,
    );
  });
});

describe('workloadSummaryQueries', () => {
  it('selects each workload’s pods by ownership and keeps one series per workload', () => {
    expect(podWorkloads([WEB, { ...WEB, name: 'api' }, DB])).toBe(
      'max by (namespace, pod, workload_kind, workload) (' +
        'label_replace(kube_pod_owner{namespace="shop", owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name", "(.*)")' +
        ' * on (namespace, replicaset) group_left (workload_kind, workload) ' +
        'max by (namespace, replicaset, workload_kind, workload) (label_replace(label_replace(' +
        'kube_replicaset_owner{namespace="shop", owner_kind="Deployment", owner_name=~"web|api"}' +
        ', "workload", "$1", "owner_name", "(.*)"), "workload_kind", "$1", "owner_kind", "(.*)"))' +
        ' or label_replace(label_replace(' +
        'kube_pod_owner{namespace="shop", owner_kind="StatefulSet", owner_name=~"web-db"}' +
        ', "workload", "$1", "owner_name", "(.*)"), "workload_kind", "$1", "owner_kind", "(.*)"))',
    );
    const [cpu, , , , , latency] = workloadSummaryQueries([WEB, AGENT]);
    expect(cpu.query).toMatch(
      /^sum by \(namespace, workload_kind, workload\) \(rate\(container_cpu_usage_seconds_total\{namespace=~"ops\|shop", container!=""\}\[\{\{rateInterval\}\}\]\) \* on \(namespace, pod\) group_left \(workload_kind, workload\) max by/,
    );
    expect(latency.query).toMatch(
      /^histogram_quantile\(0\.95, sum by \(le, namespace, workload_kind, workload\) \(rate\(http_request_duration_seconds_bucket/,
    );
    // The same metrics, in the same order, as one workload's own queries.
    expect(
      workloadSummaryQueries([WEB]).map((d) => [d.metric, d.label, d.unit, !!d.optional]),
    ).toEqual(DEFAULT_QUERIES.Deployment.map((d) => [d.metric, d.label, d.unit, !!d.optional]));
  });

  it('quotes a name’s regex metacharacters, so `web.v1` matches itself only', () => {
    expect(podWorkloads([{ ...DB, name: 'web.v1' }])).toContain('owner_name=~"web\\\\.v1"');
  });
});

describe('groupRangeResponse', () => {
  const groups: SeriesGroup[] = [
    { labels: { namespace: 'shop', workload_kind: 'Deployment', workload: 'web' }, query: 'a' },
    { labels: { namespace: 'shop', workload_kind: 'StatefulSet', workload: 'db' }, query: 'b' },
    { labels: { namespace: 'ops', workload_kind: 'DaemonSet', workload: 'agent' }, query: 'c' },
  ];
  it('gives each group its series, sums a group’s series, and drops series of no group', () => {
    const series = (labels: Record<string, string>, values: [number, string][]) => ({
      metric: labels,
      values,
    });
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          series({ workload_kind: 'StatefulSet', namespace: 'shop', workload: 'db' }, [[60, '2']]),
          series({ namespace: 'shop', workload_kind: 'Deployment', workload: 'web' }, [
            [60, '1'],
            [120, 'NaN'],
          ]),
          series({ namespace: 'shop', workload_kind: 'Deployment', workload: 'web' }, [
            [60, '0.5'],
          ]),
          series({ namespace: 'other', workload_kind: 'Deployment', workload: 'web' }, [[60, '9']]),
        ],
      },
    });
    expect(groupRangeResponse(200, body, groups)).toEqual([
      [
        [60, 1.5],
        [120, null],
      ],
      [[60, 2]],
      [],
    ]);
  });

  it('fails on an error answer as a single query does', () => {
    const body = JSON.stringify({ status: 'error', error: 'bad_data: parse error' });
    expect(() => groupRangeResponse(400, body, groups)).toThrow(
      'Prometheus query failed: bad_data: parse error',
    );
  });
});

/** The sample source, counting its calls. */
class CountingSource extends SampleSource {
  grouped = 0;
  single = 0;
  override queryRange(q: string, from: number, to: number, step: number) {
    this.single++;
    return super.queryRange(q, from, to, step);
  }
  override async queryRangeGrouped(
    _query: string,
    from: number,
    to: number,
    step: number,
    groups: readonly SeriesGroup[],
  ): Promise<SeriesPoint[][]> {
    this.grouped++;
    const series: SeriesPoint[][] = [];
    for (const g of groups)
      series.push(await SampleSource.prototype.queryRange.call(this, g.query, from, to, step));
    return series;
  }
}

describe('summarizeWorkloads', () => {
  const request = (workloads: SummaryRequest['workloads']): SummaryRequest => ({
    workloads,
    from: FROM,
    to: TO,
    step: 60,
  });

  it('scores each workload exactly as GET /api/v1/anomalies does', async () => {
    const workloads = [WEB, DB, AGENT];
    const report = await summarizeWorkloads(
      request(workloads),
      new SampleSource(),
      DEFAULT_QUERIES,
    );
    expect(report.range).toEqual({ from: FROM, to: TO, step: 60 });
    expect(report.source).toBe('sample');
    expect(report.workloads.map((w) => w.resource)).toEqual(workloads);
    for (const [i, resource] of workloads.entries()) {
      const own = await analyzeResource(
        { resource, from: FROM, to: TO, step: 60 },
        new SampleSource(),
        DEFAULT_QUERIES,
      );
      const w = report.workloads[i];
      expect({
        state: w.state,
        score: w.score,
        maxScore: w.maxScore,
        n: w.anomalousWindows,
      }).toEqual({
        ...{ state: own.summary.state, score: own.summary.score, maxScore: own.summary.maxScore },
        n: own.summary.anomalousWindows,
      });
      const strongest = [...own.windows].sort((a, b) => b.score - a.score)[0];
      expect(w.worst).toEqual(
        strongest
          ? {
              start: strongest.start,
              end: strongest.end,
              score: strongest.score,
              metric: strongest.drivers[0].metric,
              label: strongest.drivers[0].label,
              unit: strongest.drivers[0].unit,
            }
          : null,
      );
      expect(w.podSelection).toBe('kube-state-metrics');
    }
    // The sample data has an incident in this hour: the summary says so.
    expect(report.summary.state).toBe('anomalous');
    expect(report.summary.anomalousWorkloads).toBe(
      report.workloads.filter((w) => w.state === 'anomalous').length,
    );
    expect(report.summary.maxScore).toBe(Math.max(...report.workloads.map((w) => w.maxScore)));
  });

  it('makes one query per metric and history range, whatever the number of workloads', async () => {
    const { ranges } = planQueries({ from: FROM, to: TO, step: 60 });
    const perMetric = ranges.length;
    const one = new CountingSource();
    await summarizeWorkloads(request([WEB]), one, DEFAULT_QUERIES);
    const three = new CountingSource();
    await summarizeWorkloads(request([WEB, DB, AGENT]), three, DEFAULT_QUERIES);
    expect(one.grouped).toBe(DEFAULT_QUERIES.Deployment.length * perMetric);
    expect(three.grouped).toBe(one.grouped);
    expect(three.single).toBe(0);
  });

  it('analyses a kind from the operator’s queries file one workload at a time, with its queries', async () => {
    const queries = mergeMetricQueries('queries.yaml', {
      DaemonSet: [
        { metric: 'cpu', label: 'CPU', unit: 'cores', query: 'node_cpu{pod=~"{{nameRegex}}-.*"}' },
      ],
    });
    const source = new CountingSource();
    const report = await summarizeWorkloads(request([WEB, AGENT]), source, queries);
    expect(report.workloads.map((w) => w.podSelection)).toEqual([
      'kube-state-metrics',
      'queries-file',
    ]);
    const { ranges } = planQueries({ from: FROM, to: TO, step: 60 });
    expect(source.grouped).toBe(DEFAULT_QUERIES.Deployment.length * ranges.length);
    expect(source.single).toBe(ranges.length);
  });

  it('says unknown for a workload without series, and normal/unknown overall without anomalies', async () => {
    const empty: MetricSource = {
      kind: 'prometheus',
      queryRange: async () => [],
      queryRangeGrouped: async (_q, _f, _t, _s, groups) => groups.map(() => []),
    };
    const report = await summarizeWorkloads(request([WEB]), empty, DEFAULT_QUERIES);
    expect(report.workloads[0]).toMatchObject({ state: 'unknown', maxScore: 0, worst: null });
    expect(report.summary).toEqual({ state: 'unknown', maxScore: 0, anomalousWorkloads: 0 });
  });

  it('fails as a whole when Prometheus fails: a partial answer could read as normal', async () => {
    const failing: MetricSource = {
      kind: 'prometheus',
      queryRange: async () => [],
      queryRangeGrouped: async () => {
        throw new SourceUnavailableError('Prometheus unreachable: connect ECONNREFUSED');
      },
    };
    await expect(summarizeWorkloads(request([WEB, DB]), failing, DEFAULT_QUERIES)).rejects.toThrow(
      SourceUnavailableError,
    );
  });
});

describe('GET /api/v1/anomalies/summary', () => {
  const server = createAnomalyServer({
    source: new SampleSource(),
    queries: DEFAULT_QUERIES,
    log: () => undefined,
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers 200 with a summary per workload, in the order asked', async () => {
    const url = `${base}/api/v1/anomalies/summary?workload=apps/StatefulSet/shop/web-db&workload=apps/Deployment/shop/web&from=${FROM}&to=${TO}`;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { workloads: { resource: { name: string } }[] };
    expect(body.workloads.map((w) => w.resource.name)).toEqual(['web-db', 'web']);
  });

  it('answers 400 naming the parameter for a bad request', async () => {
    const response = await fetch(`${base}/api/v1/anomalies/summary?from=${FROM}&to=${TO}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'workload is required',
      status: 400,
      parameter: 'workload',
    });
  });
});
