import { ProxyMetrics } from '../../../proxy-server/src/metrics';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('ProxyMetrics', () => {
  it('shows every request and cache lookup counted since the last scrape, exactly once', async () => {
    const metrics = new ProxyMetrics();
    for (let i = 0; i < 3; i++) metrics.recordRequest('anomaly', 200, 0.002, true);
    metrics.recordRequest('anomaly', 502, 0.2, true);
    metrics.recordCacheLookup('token', true);
    metrics.recordCacheLookup('token', true);
    metrics.recordCacheLookup('application', false);
    let text = await metrics.registry.metrics();
    const ok = 'argocd_proxy_extension_request_total{extension="anomaly",status="200"}';
    const bad = 'argocd_proxy_extension_request_total{extension="anomaly",status="502"}';
    const tokenHits = 'argocd_extension_proxy_cache_lookups_total{cache="token",result="hit"}';
    const appMisses =
      'argocd_extension_proxy_cache_lookups_total{cache="application",result="miss"}';
    expect(value(text, ok)).toBe(3);
    expect(value(text, bad)).toBe(1);
    expect(value(text, tokenHits)).toBe(2);
    expect(value(text, appMisses)).toBe(1);
    expect(
      value(text, 'argocd_proxy_extension_request_duration_seconds_count{extension="anomaly"}'),
    ).toBe(4);

    // A second scrape adds only what happened in between.
    metrics.recordRequest('anomaly', 200, 0.002, true);
    text = await metrics.registry.metrics();
    expect(value(text, ok)).toBe(4);
    expect(value(text, bad)).toBe(1);
    expect(value(text, tokenHits)).toBe(2);
    text = await metrics.registry.metrics();
    expect(value(text, ok)).toBe(4);
  });

  // Argo CD's server/extension/extension.go CallExtension calls registerMetrics only after
  // the reverse proxy has served the request: a request refused before that is not counted.
  it("counts only proxied requests in Argo CD's metrics, and every request in its own", async () => {
    const metrics = new ProxyMetrics();
    metrics.recordRequest('anomaly', 200, 0.3, true);
    metrics.recordRequest('anomaly', 403, 0.001, false);
    metrics.recordRequest('', 401, 0.001, false);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain(
      'argocd_proxy_extension_request_total{extension="anomaly",status="403"}',
    );
    expect(text).not.toMatch(/argocd_proxy_extension_request_total\{extension="",/);
    expect(
      value(text, 'argocd_proxy_extension_request_total{extension="anomaly",status="200"}'),
    ).toBe(1);
    expect(
      value(text, 'argocd_proxy_extension_request_duration_seconds_count{extension="anomaly"}'),
    ).toBe(1);
    expect(
      value(text, 'argocd_extension_proxy_requests_total{extension="anomaly",status="200"}'),
    ).toBe(1);
    expect(
      value(text, 'argocd_extension_proxy_requests_total{extension="anomaly",status="403"}'),
    ).toBe(1);
    expect(value(text, 'argocd_extension_proxy_requests_total{extension="",status="401"}')).toBe(1);
    expect(
      value(text, 'argocd_extension_proxy_request_duration_seconds_count{extension="anomaly"}'),
    ).toBe(2);
  });

  // server/metrics/metrics.go: the histogram's buckets, so a dashboard's quantiles agree.
  it("uses Argo CD's name, help, labels and buckets for its two request metrics", async () => {
    const metrics = new ProxyMetrics();
    metrics.recordRequest('anomaly', 200, 0.3, true);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      '# HELP argocd_proxy_extension_request_total Number of requests sent to configured proxy extensions.',
    );
    expect(text).toContain(
      '# HELP argocd_proxy_extension_request_duration_seconds Request duration in seconds between the Argo CD API server and the extension backend.',
    );
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('argocd_proxy_extension_request_duration_seconds_bucket{'))
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(buckets).toEqual(['0.1', '0.25', '0.5', '1', '2', '5', '10', '+Inf']);
  });
});
