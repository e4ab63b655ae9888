import { ProxyMetrics } from '../../../proxy-server/src/metrics';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('ProxyMetrics', () => {
  it('shows every request and cache lookup counted since the last scrape, exactly once', async () => {
    const metrics = new ProxyMetrics();
    for (let i = 0; i < 3; i++) metrics.recordRequest('anomaly', 200, 0.002);
    metrics.recordRequest('anomaly', 502, 0.2);
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
    metrics.recordRequest('anomaly', 200, 0.002);
    text = await metrics.registry.metrics();
    expect(value(text, ok)).toBe(4);
    expect(value(text, bad)).toBe(1);
    expect(value(text, tokenHits)).toBe(2);
    text = await metrics.registry.metrics();
    expect(value(text, ok)).toBe(4);
  });
});
