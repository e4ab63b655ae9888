import {
  AnomalyApiError,
  buildSummaryUrl,
  type FetchFunction,
  fetchSummary,
  SUMMARY_BATCH,
} from '../../../extension/src/api/anomaly-client';
import type { SummaryResponse, WorkloadSummary } from '../../../extension/src/api/types';
import type { Application } from '../../../extension/src/argocd-types';
import {
  applicationWorkloads,
  byConcern,
  resourceTabHref,
  SUMMARY_KINDS,
} from '../../../extension/src/model/workloads';
import { KIND_GROUPS } from '../../../backends/anomaly-detection/src/service/parse-anomaly-request';
import { MAX_SUMMARY_WORKLOADS } from '../../../backends/anomaly-detection/src/service/summarize-workloads';
import { SUMMARY_KINDS as BACKEND_SUMMARY_KINDS } from '../../../backends/anomaly-detection/src/sources/metric-queries';

describe('the extension and the backend agree', () => {
  it('on the kinds a summary scores, and the batch fits the backend’s limit', () => {
    const key = ({ group, kind }: { group: string; kind: string }) => `${group}/${kind}`;
    expect(SUMMARY_KINDS.map(key).sort()).toEqual(
      BACKEND_SUMMARY_KINDS.map((kind) => key({ group: KIND_GROUPS[kind], kind })).sort(),
    );
    expect(SUMMARY_BATCH).toBeLessThanOrEqual(MAX_SUMMARY_WORKLOADS);
  });
});

const BASE = 'https://h/argocd/';
const RANGE = { from: 1795300000, to: 1795303600 };

function app(resources: NonNullable<Application['status']>['resources']): Application {
  return {
    metadata: { name: 'shop', namespace: 'argocd' },
    spec: { project: 'team-a' },
    status: { resources },
  };
}

const web = { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' };

describe('applicationWorkloads', () => {
  it('keeps the objects of status.resources that run pods, each once, in order', () => {
    expect(
      applicationWorkloads(
        app([
          { group: '', version: 'v1', kind: 'Service', namespace: 'shop', name: 'web' },
          { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
          { group: 'argoproj.io', kind: 'Rollout', namespace: 'shop', name: 'canary' },
          { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
          { group: 'extensions', kind: 'Deployment', namespace: 'shop', name: 'old' },
          { group: 'apps', kind: 'StatefulSet', name: 'no-namespace' },
          { kind: 'Pod', namespace: 'shop', name: 'web-0' },
        ]),
      ),
    ).toEqual([web, { group: 'argoproj.io', kind: 'Rollout', namespace: 'shop', name: 'canary' }]);
    expect(applicationWorkloads({ metadata: {}, spec: { project: 'default' } })).toEqual([]);
  });
});

describe('resourceTabHref', () => {
  it('opens the resource and its extension tab on the application page, relative to the base', () => {
    const href = resourceTabHref(app([]), web);
    expect(href).toBe(
      'applications/argocd/shop?node=apps%2FDeployment%2Fshop%2Fweb%2F0&tab=extension-0',
    );
    expect(new URL(href, BASE).pathname).toBe('/argocd/applications/argocd/shop');
  });
});

describe('byConcern', () => {
  const summary = (name: string, state: WorkloadSummary['state'], maxScore: number) =>
    ({ resource: { ...web, name }, state, maxScore }) as WorkloadSummary;
  it('puts anomalous workloads first, strongest first, then normal, then unknown', () => {
    const sorted = [
      summary('a', 'unknown', 0),
      summary('b', 'normal', 2),
      summary('c', 'anomalous', 6),
      summary('d', 'anomalous', 9),
      summary('e', 'normal', 2),
    ].sort(byConcern);
    expect(sorted.map((w) => w.resource.name)).toEqual(['d', 'c', 'b', 'e', 'a']);
  });
});

describe('fetchSummary', () => {
  const answer = (names: string[], anomalous: string[]): SummaryResponse => ({
    range: { ...RANGE, step: 60 },
    source: 'prometheus',
    summary: {
      state: anomalous.length > 0 ? 'anomalous' : 'normal',
      maxScore: anomalous.length > 0 ? 7.5 : 1,
      anomalousWorkloads: anomalous.length,
    },
    workloads: names.map((name) => ({
      resource: { ...web, name },
      state: anomalous.includes(name) ? 'anomalous' : 'normal',
      score: 1,
      maxScore: anomalous.includes(name) ? 7.5 : 1,
      anomalousWindows: anomalous.includes(name) ? 1 : 0,
      worst: null,
    })),
  });

  it('asks in batches with the application’s headers, and merges the answers', async () => {
    const workloads = Array.from({ length: SUMMARY_BATCH + 1 }, (_, i) => ({
      ...web,
      name: `w${i}`,
    }));
    const calls: { url: string; headers: Record<string, string> }[] = [];
    const fetchFn: FetchFunction = async (url, init) => {
      calls.push({ url, headers: init.headers as Record<string, string> });
      const names = new URL(url).searchParams.getAll('workload').map((w) => w.split('/')[3]);
      const body = answer(names, names.includes(`w${SUMMARY_BATCH}`) ? [`w${SUMMARY_BATCH}`] : []);
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const merged = await fetchSummary(app([]), workloads, RANGE, { fetchFn, baseURI: BASE });
    expect(calls.map((c) => new URL(c.url).searchParams.getAll('workload').length)).toEqual([
      SUMMARY_BATCH,
      1,
    ]);
    expect(calls[0].url).toBe(buildSummaryUrl(workloads.slice(0, SUMMARY_BATCH), RANGE, BASE));
    expect(
      calls[0].url.startsWith(
        'https://h/argocd/extensions/anomaly/api/v1/anomalies/summary?workload=apps%2FDeployment%2Fshop%2Fw0&',
      ),
    ).toBe(true);
    for (const { headers } of calls) {
      expect(headers).toMatchObject({
        'Argocd-Application-Name': 'argocd:shop',
        'Argocd-Project-Name': 'team-a',
      });
    }
    expect(merged.workloads.map((w) => w.resource.name)).toEqual(workloads.map((w) => w.name));
    expect(merged.summary).toEqual({ state: 'anomalous', maxScore: 7.5, anomalousWorkloads: 1 });
  });

  it('fails with the first batch that fails: a partial list could read as all normal', async () => {
    const workloads = Array.from({ length: SUMMARY_BATCH + 1 }, (_, i) => ({
      ...web,
      name: `w${i}`,
    }));
    let n = 0;
    const fetchFn: FetchFunction = async () =>
      ++n === 2
        ? new Response(JSON.stringify({ error: 'forbidden', status: 403 }), { status: 403 })
        : new Response(JSON.stringify(answer([], [])), { status: 200 });
    await expect(
      fetchSummary(app([]), workloads, RANGE, { fetchFn, baseURI: BASE }),
    ).rejects.toEqual(new AnomalyApiError(403, { error: 'forbidden', status: 403 }, 'forbidden'));
  });
});
