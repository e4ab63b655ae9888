import http from 'http';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

describe('admin endpoints and graceful shutdown', () => {
  const env = new Environment();
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it('answers /healthz and /readyz', async () => {
    expect(await request(env.sidecar.adminUrl + '/healthz')).toMatchObject({
      status: 200,
      json: { status: 'ok' },
    });
    expect(await request(env.sidecar.adminUrl + '/readyz')).toMatchObject({
      status: 200,
      json: { status: 'ready' },
    });
    expect((await request(env.sidecar.adminUrl + '/nope')).status).toBe(404);
  });

  it("exports Argo CD's extension metrics and the proxy's own counters", async () => {
    const alice = localSession('alice');
    const headers = {
      cookie: `argocd.token=${alice}`,
      ...appHeaders('argocd:guestbook', 'default'),
    };
    await request(env.sidecar.url + '/extensions/anomaly/', { headers });
    await request(env.sidecar.url + '/extensions/anomaly/', { headers });
    await request(env.sidecar.url + '/extensions/anomaly/', {
      headers: { ...headers, cookie: '' },
    });
    await request(env.sidecar.url + '/extensions/anomaly/', {
      headers: {
        cookie: `argocd.token=${localSession('bob')}`,
        ...appHeaders('argocd:guestbook', 'default'),
      },
    });
    // Exact counts: these four are the sidecar's first extension requests (the test above
    // sends none), each with a token of its own.
    const text = (await request(env.sidecar.adminUrl + '/metrics')).body;
    expect(text).toMatch(
      /argocd_proxy_extension_request_total\{extension="anomaly",status="200"\} 2\n/,
    );
    // Argo CD counts only what it proxied (extension.go CallExtension → registerMetrics):
    // the 401 and the 403 are in this project's own metrics only.
    expect(text).not.toMatch(
      /argocd_proxy_extension_request_total\{extension="anomaly",status="40[13]"\}/,
    );
    expect(text).toMatch(
      /argocd_extension_proxy_requests_total\{extension="anomaly",status="401"\} 1\n/,
    );
    expect(text).toMatch(
      /argocd_extension_proxy_requests_total\{extension="anomaly",status="403"\} 1\n/,
    );
    expect(text).toMatch(
      /argocd_proxy_extension_request_duration_seconds_count\{extension="anomaly"\} 2\n/,
    );
    expect(text).toMatch(/argocd_extension_proxy_auth_failures_total\{reason="missing"\} 1\n/);
    expect(text).toMatch(
      /argocd_extension_proxy_authz_denials_total\{extension="anomaly",check="rbac"\} 1\n/,
    );
    expect(text).toMatch(
      /argocd_extension_proxy_cache_lookups_total\{cache="application",result="hit"\} 1\n/,
    );
    expect(text).toMatch(
      /argocd_extension_proxy_cache_lookups_total\{cache="token",result="hit"\} 1\n/,
    );
    // The second allowed request found the project and cluster list decision cached.
    expect(text).toMatch(
      /argocd_extension_proxy_cache_lookups_total\{cache="destination",result="hit"\} 1\n/,
    );
    expect(text).toMatch(
      /argocd_extension_proxy_cache_lookups_total\{cache="destination",result="miss"\} 1\n/,
    );
    expect(text).toMatch(/argocd_extension_proxy_config_generation 1\n/);
  });

  it('on SIGTERM stops being ready, finishes the in-flight request, then exits 0', async () => {
    const alice = localSession('alice');
    const inflight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get(
          `${env.sidecar.url}/extensions/anomaly/slow?ms=1200`,
          {
            headers: {
              cookie: `argocd.token=${alice}`,
              ...appHeaders('argocd:guestbook', 'default'),
            },
            agent: false,
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on('error', reject);
    });
    await eventually(() =>
      expect(env.backend.seen.some((r) => r.url.startsWith('/api/slow'))).toBe(true),
    );
    env.sidecar.signal('SIGTERM');
    await eventually(async () => {
      const ready = await request(env.sidecar.adminUrl + '/readyz').catch(() => ({ status: 0 }));
      expect(ready.status).not.toBe(200);
    });
    const reply = await inflight;
    expect(reply.status).toBe(200);
    expect(await env.sidecar.waitForExit()).toBe(0);
    expect(env.sidecar.logs().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['shutting down; draining in-flight requests', 'stopped']),
    );
  });
});
