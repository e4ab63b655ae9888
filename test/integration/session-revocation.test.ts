import { appHeaders, Environment } from '../helpers/environment';
import { request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';
import { SidecarProcess } from '../helpers/sidecar-process';

/**
 * A session Argo CD stops accepting (logout, a disabled account, a password changed after
 * the token was issued) stops working through the sidecar within --application-cache-ttl.
 * Argo CD checks the session on every request (util/session/sessionmanager.go
 * SessionManager.VerifyToken); the sidecar learns of it from its next application check.
 */
describe('sessions Argo CD has revoked', () => {
  const env = new Environment();
  const TTL_MS = 1000;

  beforeAll(() => env.start({ extraFlags: ['--application-cache-ttl', `${TTL_MS}ms`] }));
  afterAll(() => env.stop());

  const call = (token: string) =>
    request(env.sidecar.url + '/extensions/anomaly/', {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('argocd:guestbook', 'default') },
    });

  it('answer 401 once the cached application check has expired', async () => {
    const token = localSession('alice');
    expect((await call(token)).status).toBe(200);
    env.argocd.revokeToken(token);
    const revokedAt = Date.now();
    // Until the TTL has passed the cached check may still answer; after it, never.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 50));
    const reply = await call(token);
    expect(Date.now() - revokedAt).toBeGreaterThan(TTL_MS);
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({
      error: 'Argo CD rejected the session; log in again',
      status: 401,
    });
    // Another session of the same user is not affected.
    expect((await call(localSession('alice'))).status).toBe(200);
  });

  it('refuses to start with an application cache TTL beyond 60 s', async () => {
    const sidecar = new SidecarProcess([
      ...env.config.flags,
      '--argocd-server',
      env.argocd.url,
      '--application-cache-ttl',
      '61s',
    ]);
    expect(await sidecar.runToExit()).toBe(2);
    expect(sidecar.stderr.join('\n')).toContain(
      '--application-cache-ttl must be at most 60s: a session Argo CD has revoked (logout, disabled account) keeps working here that long',
    );
  });
});
