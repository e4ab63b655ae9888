import { ArgoCDApplicationClient } from '../../../proxy-server/src/argocd/application-lookup';
import {
  AuthenticationError,
  NotAllowedError,
  ServiceUnavailableError,
} from '../../../proxy-server/src/errors';
import { tokenKey } from '../../../proxy-server/src/auth/token-key';
import { FakeArgoCD } from '../../helpers/fake-argocd';
import { localSession, signLocalToken } from '../../helpers/local-tokens';

describe('ArgoCDApplicationClient', () => {
  const argocd = new FakeArgoCD();
  let now = 1_000_000;
  const clock = () => now;

  beforeAll(async () => {
    await argocd.start();
    argocd.setApplications([
      {
        name: 'guestbook',
        namespace: 'argocd',
        project: 'default',
        destination: { server: 'https://k' },
        readers: ['alice'],
      },
      {
        name: 'payments',
        namespace: 'team-a',
        project: '',
        destination: { name: 'remote' },
        readers: ['*'],
      },
    ]);
  });
  afterAll(() => argocd.stop());
  beforeEach(() => {
    argocd.requests.length = 0;
    argocd.delayMs = 0;
    argocd.failWith = undefined;
    argocd.dropper.reset();
  });

  const client = (ttl = 5000) =>
    new ArgoCDApplicationClient({ baseUrl: argocd.url, cacheTtlMs: ttl, now: clock });

  it("asks Argo CD with the caller's token and returns the application", async () => {
    const token = localSession('alice');
    const app = await client().getApplication(token, 'argocd', 'guestbook');
    expect(app).toEqual({
      name: 'guestbook',
      namespace: 'argocd',
      project: 'default',
      destination: { server: 'https://k' },
    });
    expect(argocd.requests).toEqual([
      {
        path: '/api/v1/applications/guestbook?appNamespace=argocd',
        authorization: `Bearer ${token}`,
      },
    ]);
  });

  it('treats an empty project as "default", as Argo CD does', async () => {
    const app = await client().getApplication(localSession('bob'), 'team-a', 'payments');
    expect(app.project).toBe('default');
  });

  it('reuses an answer for the same token and application until it expires', async () => {
    const c = client(5000);
    const token = localSession('alice');
    await c.getApplication(token, 'argocd', 'guestbook');
    await c.getApplication(token, 'argocd', 'guestbook');
    expect(argocd.requests).toHaveLength(1);
    await c.getApplication(localSession('alice'), 'argocd', 'guestbook');
    expect(argocd.requests).toHaveLength(2);
    now += 5001;
    await c.getApplication(token, 'argocd', 'guestbook');
    expect(argocd.requests).toHaveLength(3);
  });

  it('answers from the cache without waiting: the application, the cached refusal, or nothing', async () => {
    const c = client(5000);
    const alice = localSession('alice');
    const bob = localSession('bob');
    expect(c.lookupCached(tokenKey(alice), 'argocd', 'guestbook')).toBeUndefined();
    const app = await c.getApplication(alice, 'argocd', 'guestbook');
    expect(c.lookupCached(tokenKey(alice), 'argocd', 'guestbook')).toBe(app);
    // Another token, or another application, is another key.
    expect(c.lookupCached(tokenKey(bob), 'argocd', 'guestbook')).toBeUndefined();
    expect(c.lookupCached(tokenKey(alice), 'team-a', 'payments')).toBeUndefined();
    // Argo CD's refusal is cached like an answer, and thrown again from the cache.
    await expect(c.getApplication(bob, 'argocd', 'guestbook')).rejects.toBeInstanceOf(
      NotAllowedError,
    );
    expect(() => c.lookupCached(tokenKey(bob), 'argocd', 'guestbook')).toThrow(NotAllowedError);
    expect(argocd.requests).toHaveLength(2);
    now += 5001;
    expect(c.lookupCached(tokenKey(alice), 'argocd', 'guestbook')).toBeUndefined();
  });

  it('shares one call among concurrent misses', async () => {
    argocd.delayMs = 100;
    const c = client();
    const token = localSession('alice');
    const apps = await Promise.all(
      Array.from({ length: 20 }, () => c.getApplication(token, 'argocd', 'guestbook')),
    );
    expect(apps).toHaveLength(20);
    expect(argocd.requests).toHaveLength(1);
  });

  it.each([
    ['an application the caller may not read', localSession('bob'), 'guestbook', NotAllowedError],
    ['an application that does not exist', localSession('alice'), 'missing', NotAllowedError],
    [
      'a session Argo CD rejects',
      signLocalToken({ sub: 'alice:login' }, { secret: 'x' }),
      'guestbook',
      AuthenticationError,
    ],
  ])('rejects %s', async (_case, token, name, errorClass) => {
    await expect(client().getApplication(token, 'argocd', name)).rejects.toBeInstanceOf(errorClass);
  });

  it('answers 503 when Argo CD fails, and does not cache the failure', async () => {
    argocd.failWith = 500;
    const c = client();
    const token = localSession('alice');
    await expect(c.getApplication(token, 'argocd', 'guestbook')).rejects.toThrow(
      new ServiceUnavailableError('Argo CD API answered 500; try again shortly'),
    );
    argocd.failWith = undefined;
    await expect(c.getApplication(token, 'argocd', 'guestbook')).resolves.toMatchObject({
      name: 'guestbook',
    });
  });

  it('answers 503 when Argo CD is unreachable', async () => {
    const c = new ArgoCDApplicationClient({ baseUrl: 'http://127.0.0.1:1' });
    await expect(
      c.getApplication(localSession('alice'), 'argocd', 'guestbook'),
    ).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      status: 503,
      message: 'Argo CD API is unreachable; try again shortly',
    });
  });

  it('sends a lookup again when Argo CD closed the kept-alive connection it went out on', async () => {
    const c = client();
    await expect(
      c.getApplication(localSession('alice'), 'argocd', 'guestbook'),
    ).resolves.toMatchObject({ name: 'guestbook' });
    // The next lookup (another application: not cached) goes out on the same idle connection,
    // which Argo CD closes instead of answering.
    argocd.dropper.mode = 'reused';
    await expect(
      c.getApplication(localSession('alice'), 'team-a', 'payments'),
    ).resolves.toMatchObject({ name: 'payments' });
    expect(argocd.dropper.count).toBe(1);
    expect(argocd.requests.map((r) => r.path)).toEqual([
      '/api/v1/applications/guestbook?appNamespace=argocd',
      '/api/v1/applications/payments?appNamespace=team-a',
    ]);
  });

  it('does not send a lookup again when a fresh connection fails', async () => {
    argocd.dropper.mode = 'all';
    await expect(
      client().getApplication(localSession('alice'), 'argocd', 'guestbook'),
    ).rejects.toMatchObject({
      status: 503,
      message: 'Argo CD API is unreachable; try again shortly',
    });
    expect(argocd.dropper.count).toBe(1);
  });

  it('answers 503 when Argo CD does not answer in time', async () => {
    argocd.delayMs = 1000;
    const c = new ArgoCDApplicationClient({ baseUrl: argocd.url, timeoutMs: 100 });
    await expect(
      c.getApplication(localSession('alice'), 'argocd', 'guestbook'),
    ).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('refuses to skip certificate checks for a non-loopback Argo CD', () => {
    expect(
      () =>
        new ArgoCDApplicationClient({
          baseUrl: 'https://argocd.example.com',
          insecureSkipVerify: true,
        }),
    ).toThrow('--argocd-server-insecure is only allowed for a loopback --argocd-server');
    expect(
      () =>
        new ArgoCDApplicationClient({
          baseUrl: 'https://localhost:8080',
          insecureSkipVerify: true,
        }),
    ).not.toThrow();
  });
  // Argo CD refuses a logged-out session on its next request (sessionmanager.go
  // SessionManager.VerifyToken: IsTokenRevoked, a disabled account, passwordMtime); the
  // sidecar learns it from its next application check, so the cache TTL is the bound.
  it('stops accepting a token Argo CD has revoked once the cached answer expires', async () => {
    const c = client(60_000);
    const token = localSession('alice');
    await c.getApplication(token, 'argocd', 'guestbook');
    argocd.revokeToken(token);
    now += 59_999;
    await expect(c.getApplication(token, 'argocd', 'guestbook')).resolves.toMatchObject({
      name: 'guestbook',
    });
    now += 1;
    await expect(c.getApplication(token, 'argocd', 'guestbook')).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    // A refusal for a bad session is not cached: every later request asks again.
    await expect(c.getApplication(token, 'argocd', 'guestbook')).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    expect(argocd.requests).toHaveLength(3);
  });

  it('refuses a cache TTL beyond the 60 s bound on revoked sessions', () => {
    expect(() => client(60_001)).toThrow('--application-cache-ttl must be between 0s and 60s');
    expect(() => client(-1)).toThrow('--application-cache-ttl must be between 0s and 60s');
    expect(() => client(60_000)).not.toThrow();
  });
});
