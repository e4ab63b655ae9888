import type { AddressInfo } from 'net';
import {
  parseBackendArgs,
  UsageError,
} from '../../../../backends/anomaly-detection/src/service/anomaly-backend-command';
import { createAnomalyServer } from '../../../../backends/anomaly-detection/src/service/anomaly-server';
import {
  parseExploreTemplate,
  renderExploreUrl,
} from '../../../../backends/anomaly-detection/src/service/explore-link';
import { DEFAULT_QUERIES } from '../../../../backends/anomaly-detection/src/sources/metric-queries';
import { SampleSource } from '../../../../backends/anomaly-detection/src/sources/sample-source';

const PROMETHEUS =
  'https://prometheus.example.com/graph?g0.expr={{query}}&g0.range_input={{range}}s' +
  '&g0.end_input={{toIso}}&g0.tab=0';
const GRAFANA =
  'https://grafana.example.com/explore?left=%7B%22datasource%22:%22prom%22,%22queries%22:' +
  '%5B%7B%22refId%22:%22A%22,%22expr%22:%22{{queryJson}}%22%7D%5D,%22range%22:' +
  '%7B%22from%22:%22{{fromMs}}%22,%22to%22:%22{{toMs}}%22%7D%7D';
// Every character that needs escaping somewhere: & = # in a URL, " \ in JSON.
const QUERY = 'sum(rate(x{pod=~"a-.+", path="/a?b=1&c#d\\\\e"}[5m]))';
const VALUES = { query: QUERY, from: 1795300000, to: 1795321600, step: 60 };

describe('--explore-url templates', () => {
  it('links to Prometheus with the query and range intact', () => {
    const url = new URL(renderExploreUrl(parseExploreTemplate(PROMETHEUS), VALUES));
    expect(url.origin + url.pathname).toBe('https://prometheus.example.com/graph');
    expect(url.searchParams.get('g0.expr')).toBe(QUERY);
    expect(url.searchParams.get('g0.range_input')).toBe('21600s');
    expect(url.searchParams.get('g0.end_input')).toBe('2026-11-22T04:26:40.000Z');
  });

  it('links to Grafana Explore: the query escaped inside its JSON', () => {
    const url = new URL(renderExploreUrl(parseExploreTemplate(GRAFANA), VALUES));
    const left = JSON.parse(url.searchParams.get('left') ?? '') as {
      queries: Array<{ expr: string }>;
      range: { from: string; to: string };
    };
    expect(left.queries[0].expr).toBe(QUERY);
    expect(left.range).toEqual({ from: '1795300000000', to: '1795321600000' });
  });

  it.each([
    ['javascript:alert(1)//{{query}}', 'must be an http or https URL, not javascript'],
    ['{{query}}', 'must be an absolute http or https URL'],
    ['/graph?g0.expr={{query}}', 'must be an absolute http or https URL'],
    ['https://p.example.com/?q={{expr}}', 'unknown placeholder {{expr}}; known: {{query}}'],
  ])('refuses %p at start', (template, message) => {
    expect(() => parseExploreTemplate(template)).toThrow(message);
    expect(() =>
      parseBackendArgs(['--listen', ':0', '--sample', '--explore-url', template], {}),
    ).toThrow(UsageError);
  });

  it('is read from the flag or ARGOCD_EXTENSION_PROXY_EXPLORE_URL', () => {
    expect(
      parseBackendArgs(['--listen', ':0', '--sample'], {
        ARGOCD_EXTENSION_PROXY_EXPLORE_URL: PROMETHEUS,
      }).exploreUrl,
    ).toEqual({ text: PROMETHEUS });
    expect(parseBackendArgs(['--listen', ':0', '--sample'], {}).exploreUrl).toBeUndefined();
  });
});

describe('the service with --explore-url', () => {
  async function series(exploreUrl?: string) {
    const server = createAnomalyServer({
      source: new SampleSource(),
      queries: DEFAULT_QUERIES,
      log: () => undefined,
      exploreUrl: exploreUrl ? parseExploreTemplate(exploreUrl) : undefined,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const query = new URLSearchParams({
        group: 'apps',
        kind: 'Deployment',
        namespace: 'guestbook',
        name: 'guestbook-ui',
        from: '1795300000',
        to: '1795303600',
      });
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/anomalies?${query}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        range: { from: number; to: number };
        series: Array<{ query: string; exploreUrl?: string }>;
      };
      return body;
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('gives every series a link to its own query over the response range', async () => {
    const body = await series(PROMETHEUS);
    // One per default Deployment query: CPU, memory, restarts, requests, errors, latency.
    expect(body.series).toHaveLength(6);
    for (const s of body.series) {
      const url = new URL(s.exploreUrl ?? '');
      expect(url.searchParams.get('g0.expr')).toBe(s.query);
      expect(url.searchParams.get('g0.range_input')).toBe(`${body.range.to - body.range.from}s`);
    }
  });

  it('sends no link without a template', async () => {
    const body = await series();
    expect(body.series.every((s) => !('exploreUrl' in s))).toBe(true);
  });
});
