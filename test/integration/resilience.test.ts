import http from 'http';
import { AddressInfo } from 'net';
import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { freePort } from '../helpers/processes';

/**
 * The extension limits and backend resilience settings (extension-proxy only fields of
 * `backend`), through the real sidecar: 413, 431, 429 with Retry-After, the concurrency
 * cap, retries within a budget, failover URLs and circuit breakers with their metrics.
 */
describe('limits and resilience', () => {
  const env = new Environment();
  let closedPort = 0;
  let revivedPort = 0;
  const session = (user: string) => ({
    cookie: `argocd.token=${localSession(user)}`,
    ...appHeaders('argocd:guestbook', 'default'),
  });
  const admin = session('admin');
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = (await request(`${env.sidecar.adminUrl}/metrics`)).body;
    const line = text.split('\n').find((l) => pattern.test(l));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    closedPort = await freePort();
    revivedPort = await freePort();
    await env.start({
      policy: 'p, admin, extensions, invoke, *, allow\np, alice, extensions, invoke, *, allow',
      cm: (e) => ({
        'extension.config.limited': `limits:
  maxRequestBodyBytes: 1000
  maxRequestHeaderBytes: 2048
services:
- url: ${e.backend.url}/api
`,
        'extension.config.rated': `rateLimit:
  perUser: {requestsPerSecond: 0.5, burst: 2}
  perExtension: {requestsPerSecond: 0.5, burst: 3}
services:
- url: ${e.backend.url}/api
`,
        'extension.config.capped': `limits: {maxConcurrentRequests: 2}\nservices:\n- url: ${e.backend.url}\n`,
        'extension.config.failover': `circuitBreaker: {consecutiveFailures: 2, openFor: 1s}
services:
- url: http://127.0.0.1:${closedPort}/api
  failoverUrls: [${e.secondBackend.url}/api]
`,
        // The circuit test's own: open for a minute, so no half-open probe of the primary
        // comes in the middle of it.
        'extension.config.breaker': `circuitBreaker: {consecutiveFailures: 2, openFor: 1m}
services:
- url: http://127.0.0.1:${closedPort}/api
  failoverUrls: [${e.secondBackend.url}/api]
`,
        'extension.config.nobudget': `retries: {attempts: 1, budgetPercent: 0}
services:
- url: http://127.0.0.1:${closedPort}/api
  failoverUrls: [${e.secondBackend.url}/api]
`,
        'extension.config.single': `circuitBreaker: {consecutiveFailures: 2, openFor: 1s}
services:
- url: http://127.0.0.1:${revivedPort}/api
`,
      }),
    });
  });
  afterAll(() => env.stop());

  it('refuses a body over the limit: declared (413 at once) and chunked (413, backend aborted)', async () => {
    const before = env.backend.seen.length;
    const declared = await request(`${env.sidecar.url}/extensions/limited/x`, {
      method: 'POST',
      headers: admin,
      body: Buffer.alloc(1001),
    });
    expect(declared.json).toEqual({
      error: 'request body exceeds 1000 bytes for this extension',
      status: 413,
    });
    expect(env.backend.seen.length).toBe(before);
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${env.sidecar.url}/extensions/limited/upload`,
        { method: 'POST', headers: { ...admin, 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(600));
      setTimeout(() => req.end(Buffer.alloc(600)), 100);
    });
    expect(chunked.status).toBe(413);
    await eventually(() => expect(env.backend.seen.at(-1)?.abortedByPeer).toBe(true));
    const small = await request(`${env.sidecar.url}/extensions/limited/x`, {
      method: 'POST',
      headers: admin,
      body: Buffer.alloc(1000),
    });
    expect(small.status).toBe(200);
    expect(await metric(/limited_total\{extension="limited",reason="body"\}/)).toBe(2);
  });

  it('refuses headers over the limit with 431', async () => {
    const big = await request(`${env.sidecar.url}/extensions/limited/x`, {
      headers: { ...admin, 'x-padding': 'a'.repeat(2048) },
    });
    expect(big.json).toEqual({
      error: 'request headers exceed 2048 bytes for this extension',
      status: 431,
    });
    expect(
      (await request(`${env.sidecar.url}/extensions/limited/x`, { headers: admin })).status,
    ).toBe(200);
  });

  it('rate-limits per user, then per extension, with Retry-After', async () => {
    const url = `${env.sidecar.url}/extensions/rated/x`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(url, { headers: admin })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await request(url, { headers: admin });
    expect(limited.json).toEqual({
      error: 'your rate limit for this extension is reached',
      status: 429,
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another user has a bucket of their own, until the extension's bucket (3) runs out.
    const alice = session('alice');
    expect((await request(url, { headers: alice })).status).toBe(200);
    const extensionLimited = await request(url, { headers: alice });
    expect(extensionLimited.json).toEqual({
      error: 'this extension is receiving too many requests',
      status: 429,
    });
    expect(await metric(/limited_total\{extension="rated",reason="rate-user"\}/)).toBe(2);
    expect(await metric(/limited_total\{extension="rated",reason="rate-extension"\}/)).toBe(1);
  });

  it('caps requests in flight per backend with 503 and Retry-After', async () => {
    const slow = () =>
      request(`${env.sidecar.url}/extensions/capped/slow?ms=1500`, { headers: admin });
    const inFlight = [slow(), slow()];
    await eventually(() =>
      expect(
        env.backend.seen.filter((r) => r.url.startsWith('/slow')).length,
      ).toBeGreaterThanOrEqual(2),
    );
    const refused = await request(`${env.sidecar.url}/extensions/capped/x`, { headers: admin });
    expect(refused.json).toEqual({ error: 'backend is at its concurrency limit', status: 503 });
    expect(refused.headers['retry-after']).toBe('1');
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200]);
    expect(
      (await request(`${env.sidecar.url}/extensions/capped/x`, { headers: admin })).status,
    ).toBe(200);
  });

  it('retries an idempotent request on the failover URL, never a request with a body', async () => {
    const get = await request(`${env.sidecar.url}/extensions/failover/items`, { headers: admin });
    expect(get.status).toBe(200);
    expect(env.secondBackend.seen.at(-1)?.url).toBe('/api/items');
    // The failover URL's own Host, not the primary's.
    expect(env.secondBackend.seen.at(-1)?.headers.host).toBe(new URL(env.secondBackend.url).host);
    expect(await metric(/backend_retries_total\{extension="failover"\}/)).toBe(1);
    const post = await request(`${env.sidecar.url}/extensions/failover/items`, {
      method: 'POST',
      headers: admin,
      body: 'x',
    });
    expect(post.status).toBe(502);
  });

  it('opens the circuit of a failing URL: requests go straight to the failover', async () => {
    const primaryCircuit = new RegExp(
      `circuit_state\\{extension="breaker",url="http://127\\.0\\.0\\.1:${closedPort}/api"\\}`,
    );
    const post = () =>
      request(`${env.sidecar.url}/extensions/breaker/y`, {
        method: 'POST',
        headers: admin,
        body: 'x',
      });
    // Two failures on the primary (a POST is never retried elsewhere): open.
    expect((await post()).status).toBe(502);
    expect(await metric(primaryCircuit)).toBe(0);
    expect((await post()).status).toBe(502);
    expect(await metric(primaryCircuit)).toBe(1);
    for (let i = 0; i < 3; i++) {
      const reply = await post();
      // A POST is never retried, yet it succeeds: the open circuit skips the primary.
      expect(reply.status).toBe(200);
    }
    expect(await metric(/backend_retries_total\{extension="breaker"\}/)).toBe(0);
  });

  it('does not retry beyond the budget', async () => {
    const reply = await request(`${env.sidecar.url}/extensions/nobudget/x`, { headers: admin });
    expect(reply.status).toBe(502);
    expect(await metric(/backend_retries_total\{extension="nobudget"\}/)).toBe(0);
  });

  it('fails fast while the only URL is open, then closes the circuit once it answers', async () => {
    const url = `${env.sidecar.url}/extensions/single/x`;
    expect((await request(url, { headers: admin })).status).toBe(502);
    const open = await request(url, { headers: admin });
    expect(open.json).toEqual({
      error: 'backend is unavailable (its circuit is open)',
      status: 503,
    });
    expect(open.headers['retry-after']).toBe('1');
    const revived = http.createServer((_req, res) => res.end('back'));
    await new Promise<void>((r) => revived.listen(revivedPort, '127.0.0.1', r));
    try {
      expect((revived.address() as AddressInfo).port).toBe(revivedPort);
      await eventually(async () => {
        const reply = await request(url, { headers: admin });
        expect(reply.body).toBe('back');
      }, 5_000);
      expect(await metric(/circuit_state\{extension="single"/)).toBe(0);
    } finally {
      revived.closeAllConnections();
      revived.close();
    }
  });
});
