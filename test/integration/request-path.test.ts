import { appHeaders, BACKEND_SECRET, DEFAULT_APPS, Environment } from '../helpers/environment';
import { request, rawRequest } from '../helpers/http-client';
import { localSession, signLocalToken, TEST_SERVER_SECRET } from '../helpers/local-tokens';
import { splitTokenCookie, toCookieHeader } from '../helpers/token-cookies';

/**
 * The whole request path against the real sidecar process: every stage's success and
 * every rejection, with the backend's view of each forwarded request asserted exactly.
 */
describe('sidecar request path', () => {
  const env = new Environment();
  const alice = localSession('alice');
  const admin = localSession('admin');
  const bob = localSession('bob');

  beforeAll(() => env.start());
  afterAll(() => env.stop());

  const call = (path: string, token: string | undefined, headers: Record<string, string> = {}) =>
    request(env.sidecar.url + path, {
      headers: {
        ...(token ? { cookie: `argocd.token=${token}` } : {}),
        ...appHeaders('argocd:guestbook', 'default'),
        ...headers,
      },
    });

  it('forwards an allowed request with exactly the documented headers', async () => {
    const reply = await call('/extensions/anomaly/v1/scores?from=1&to=2', alice, {
      'Argocd-Username': 'admin',
      'Argocd-User-Groups': 'admins',
      'X-Forwarded-For': '6.6.6.6',
      Authorization: 'Bearer forged',
      'X-Custom': 'kept',
    });
    expect(reply.status).toBe(200);
    const seen = await env.backend.last();
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/api/v1/scores?from=1&to=2');
    const { headers } = seen;
    expect(headers).toEqual({
      host: `127.0.0.1:${env.backend.port}`,
      'x-custom': 'kept',
      'argocd-username': 'alice',
      'argocd-user-id': 'alice',
      'argocd-application-name': 'argocd:guestbook',
      'argocd-project-name': 'default',
      'argocd-namespace': 'argocd',
      'argocd-target-cluster-url': 'https://kubernetes.default.svc',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': new URL(env.sidecar.url).host,
      'x-forwarded-proto': 'http',
      authorization: BACKEND_SECRET,
      'x-static': 'static-value',
      connection: 'keep-alive',
    });
  });

  it('accepts the token as a Bearer header too', async () => {
    const reply = await request(env.sidecar.url + '/extensions/anomaly/', {
      headers: { authorization: `Bearer ${alice}`, ...appHeaders('argocd:guestbook', 'default') },
    });
    expect(reply.status).toBe(200);
    expect((await env.backend.last()).url).toBe('/api/');
  });

  it('accepts a session split over many cookie chunks, as argocd-server writes a large token', async () => {
    const groups = Array.from({ length: 2500 }, (_, i) => `team-${i}`);
    const big = localSession('alice', { groups });
    const setCookies = splitTokenCookie(big);
    // 38,792 characters, in parts of at most 4,093 - (12 + 3) - (30 + 2) = 4,046.
    expect(setCookies).toHaveLength(10);
    const reply = await request(env.sidecar.url + '/extensions/anomaly/', {
      headers: {
        cookie: toCookieHeader(setCookies, ['other=1']),
        ...appHeaders('argocd:guestbook', 'default'),
      },
    });
    expect(reply.status).toBe(200);
  });

  it('refuses request headers beyond its limit without forwarding anything', async () => {
    const before = env.backend.seen.length;
    // Node answers 431 and closes; a client still sending may see the reset first.
    const outcome = await request(env.sidecar.url + '/extensions/anomaly/', {
      headers: { cookie: `argocd.token=${alice}`, 'x-filler': 'x'.repeat(128 * 1024) },
    }).then(
      (reply) => reply.status,
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect([431, 'ECONNRESET', 'EPIPE']).toContain(outcome);
    expect(env.backend.seen.length).toBe(before);
  });

  it('streams a request body to the backend', async () => {
    const body = 'x'.repeat(100_000);
    const reply = await request(env.sidecar.url + '/extensions/anomaly/upload', {
      method: 'POST',
      body,
      headers: {
        cookie: `argocd.token=${alice}`,
        ...appHeaders('argocd:guestbook', 'default'),
        'content-type': 'text/plain',
      },
    });
    expect(reply.status).toBe(200);
    expect(reply.json.bodyBytes).toBe(100_000);
  });

  it('routes by the application destination: server and name', async () => {
    const a = await call('/extensions/multi/x', alice);
    expect(a.status).toBe(200);
    expect(a.json.url).toBe('/in-cluster/x');
    const b = await call('/extensions/multi/x', alice, appHeaders('team-a:payments', 'team-a'));
    expect(b.status).toBe(200);
    expect(b.json.url).toBe('/remote/x');
    expect((b.json.headers as Record<string, string>)['argocd-target-cluster-name']).toBe('remote');
  });

  it('lets a role granted through a g line invoke any extension', async () => {
    expect((await call('/extensions/anomaly/', admin)).status).toBe(200);
  });

  it('drops Set-Cookie and hop-by-hop headers from the backend response', async () => {
    const reply = await call('/extensions/anomaly/cookie', alice);
    expect(reply.status).toBe(200);
    expect(reply.headers['x-backend']).toBe('yes');
    expect(reply.headers['set-cookie']).toBeUndefined();
    expect(reply.headers['keep-alive']).toBeUndefined();
  });

  describe('rejections', () => {
    it.each([
      [
        'a path outside /extensions/',
        '/api/v1/session',
        400,
        'path must start with /extensions/<extension-name>',
      ],
      [
        // Node's client normalizes %2e%2e itself; raw traversals are tested below.
        'an encoded slash',
        '/extensions/anomaly/a%2F..%2Fb',
        400,
        'path must not contain an encoded slash or backslash',
      ],
    ])('answers 400 for %s', async (_case, path, status, error) => {
      const reply = await call(path, alice);
      expect(reply.status).toBe(status);
      expect(reply.json).toEqual({ error, status });
      expect(reply.headers['content-type']).toBe('application/json');
    });

    it('answers 401 without a token, before anything else is checked', async () => {
      const reply = await call('/extensions/nonexistent/', undefined);
      expect(reply.status).toBe(401);
      expect(reply.json.status).toBe(401);
    });

    it.each([
      ['signed with another key', signLocalToken({ sub: 'alice:login' }, { secret: 'other-key' })],
      ['expired', signLocalToken({ sub: 'alice:login', exp: Math.floor(Date.now() / 1000) - 600 })],
      [
        'with alg none',
        signLocalToken({ sub: 'alice:login' }, { header: { alg: 'none' } }).replace(
          /\.[^.]+$/,
          '.',
        ),
      ],
      ['garbage', 'not-a-jwt'],
    ])('answers 401 for a token %s', async (_case, token) => {
      const reply = await call('/extensions/anomaly/', token);
      expect(reply.status).toBe(401);
      expect(reply.body).not.toContain(token);
      expect(reply.body).not.toContain(TEST_SERVER_SECRET);
    });

    it.each([
      [
        'a missing application header',
        { 'Argocd-Application-Name': '' },
        'header Argocd-Application-Name must be provided',
      ],
      [
        'an application header without namespace',
        { 'Argocd-Application-Name': 'guestbook' },
        'header Argocd-Application-Name must be "<namespace>:<app-name>"',
      ],
      [
        'an invalid namespace',
        { 'Argocd-Application-Name': 'Bad_NS:guestbook' },
        'header Argocd-Application-Name has an invalid namespace',
      ],
      [
        'a missing project header',
        { 'Argocd-Project-Name': '' },
        'header Argocd-Project-Name must be provided',
      ],
      [
        'an invalid project',
        { 'Argocd-Project-Name': '../x' },
        'header Argocd-Project-Name has an invalid project name',
      ],
    ])('answers 400 for %s', async (_case, headers, error) => {
      const reply = await call('/extensions/anomaly/', alice, headers);
      expect(reply.json).toEqual({ error, status: 400 });
    });

    it('answers 403 naming the missing permission and the policy line that grants it', async () => {
      const reply = await call('/extensions/anomaly/', bob);
      expect(reply.status).toBe(403);
      expect(reply.json).toEqual({
        error: 'permission denied: extensions, invoke, anomaly',
        status: 403,
        requiredPermission: 'extensions, invoke, anomaly',
        policy: 'p, bob, extensions, invoke, anomaly, allow',
      });
    });

    it('answers 403 for an application the caller may not read, as Argo CD does', async () => {
      env.argocd.setApplications([
        { ...DEFAULT_APPS[0], readers: ['admin'] },
        ...DEFAULT_APPS.slice(1),
      ]);
      try {
        // A fresh token: answers are cached per token and application for a few seconds.
        const reply = await call('/extensions/anomaly/', localSession('alice'));
        expect(reply.status).toBe(403);
        expect(reply.json.error).toBe(
          'application argocd/guestbook does not exist or you may not read it',
        );
      } finally {
        env.argocd.setApplications(DEFAULT_APPS);
      }
    });

    it.each([
      [
        'an application that does not exist',
        'argocd:missing',
        'default',
        'application argocd/missing does not exist or you may not read it',
      ],
      [
        'a project header that does not match the application',
        'argocd:guestbook',
        'team-a',
        'application argocd/guestbook is not in the project named by Argocd-Project-Name',
      ],
    ])('answers 403 for %s', async (_case, app, project, error) => {
      const reply = await call('/extensions/anomaly/', alice, appHeaders(app, project));
      expect(reply.json).toEqual({ error, status: 403 });
    });

    it('answers 404 for an unknown extension, only after authentication and authorization', async () => {
      const reply = await call('/extensions/nonexistent/', admin);
      expect(reply.json).toEqual({ error: 'extension nonexistent is not configured', status: 404 });
      // alice may not invoke it: she learns nothing about whether it exists.
      expect((await call('/extensions/nonexistent/', alice)).status).toBe(403);
    });

    it("answers 400 when no service serves the application's destination", async () => {
      const reply = await call(
        '/extensions/multi/',
        admin,
        appHeaders('argocd:nowhere', 'default'),
      );
      expect(reply.json).toEqual({
        error: "extension multi has no backend for the application's destination cluster",
        status: 400,
      });
    });

    it('rejects raw requests whose path escapes the extension', async () => {
      const port = Number(new URL(env.sidecar.url).port);
      for (const path of [
        '/extensions/anomaly/..%2f..%2fadmin',
        '/extensions/anomaly/a/%252e%252e/b',
        '/extensions/anomaly/..\\admin',
        '/extensions/anomaly/../multi/x',
      ]) {
        const reply = await rawRequest(
          port,
          `GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: argocd.token=${alice}\r\nArgocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\nConnection: close\r\n\r\n`,
        );
        expect([path, reply.status]).toEqual([path, 400]);
      }
    });
  });

  describe('request smuggling', () => {
    const port = () => Number(new URL(env.sidecar.url).port);
    const smuggled =
      'GET /api/admin HTTP/1.1\r\nHost: b\r\nArgocd-Username: admin\r\nArgocd-Application-Name: other:secret\r\n\r\n';
    const auth = () =>
      `Host: x\r\nCookie: argocd.token=${alice}\r\nArgocd-Application-Name: argocd:guestbook\r\nArgocd-Project-Name: default\r\n`;

    /**
     * The backend saw `expected` and nothing else since `before`. Proof that nothing more is
     * coming: a request sent afterwards goes out on the connection the sidecar just used
     * (its pool reuses the idle one), behind anything smuggled onto it, so once the backend
     * has seen that request it has seen whatever a lost framing sent before it.
     */
    const expectNothingSmuggled = async (before: number, expected: string) => {
      const after = await call('/extensions/anomaly/after-smuggling', alice);
      expect(after.status).toBe(200);
      expect(env.backend.seen.slice(before).map((r) => `${r.method} ${r.url}`)).toEqual([
        expected,
        'GET /api/after-smuggling',
      ]);
    };

    it('keeps a chunked DELETE body framed, so it cannot become a second request', async () => {
      const before = env.backend.seen.length;
      const chunk = smuggled.length.toString(16);
      const reply = await rawRequest(
        port(),
        `DELETE /extensions/anomaly/items/1 HTTP/1.1\r\n${auth()}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          `${chunk}\r\n${smuggled}\r\n0\r\n\r\n`,
      );
      expect(reply.status).toBe(200);
      await expectNothingSmuggled(before, 'DELETE /api/items/1');
      expect(env.backend.seen[before].bodyBytes).toBe(smuggled.length);
    });

    it('does not let Connection: Content-Length drop the body length', async () => {
      const before = env.backend.seen.length;
      const reply = await rawRequest(
        port(),
        `GET /extensions/anomaly/items HTTP/1.1\r\n${auth()}Content-Length: ${smuggled.length}\r\n` +
          `Connection: close, Content-Length\r\n\r\n${smuggled}`,
      );
      expect(reply.status).toBe(200);
      await expectNothingSmuggled(before, 'GET /api/items');
      expect(env.backend.seen[before].headers['argocd-username']).toBe('alice');
      expect(env.backend.seen[before].bodyBytes).toBe(smuggled.length);
    });
  });

  it('answers 503 with a clear message when the Argo CD API is unreachable', async () => {
    // Argo CD closes every connection without answering (as while argocd-server restarts).
    env.argocd.dropper.mode = 'all';
    try {
      // A fresh token: nothing cached answers for Argo CD.
      const reply = await call('/extensions/anomaly/', localSession('alice'));
      expect(reply.json).toEqual({
        error: 'Argo CD API is unreachable; try again shortly',
        status: 503,
      });
    } finally {
      env.argocd.dropper.reset();
    }
  });

  it('never writes a token or secret to its logs', async () => {
    // A request forwarded, one refused by the policy and one for an unknown extension, each
    // with a session token; their access log lines are written once the response has ended.
    expect((await call('/extensions/anomaly/log-check', alice)).status).toBe(200);
    expect((await call('/extensions/anomaly/log-check', bob)).status).toBe(403);
    expect((await call('/extensions/nonexistent/log-check', admin)).status).toBe(404);
    for (const [user, path, status] of [
      ['alice', '/extensions/anomaly/log-check', 200],
      ['bob', '/extensions/anomaly/log-check', 403],
      ['admin', '/extensions/nonexistent/log-check', 404],
    ] as const) {
      await env.sidecar.waitForLog(
        (l) => l.user === user && l.path === path && l.status === status,
      );
    }
    const output = env.sidecar.output();
    for (const secret of [alice, admin, bob, TEST_SERVER_SECRET, BACKEND_SECRET]) {
      expect(output).not.toContain(secret);
    }
  });
});
