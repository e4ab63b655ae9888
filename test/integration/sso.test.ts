import { appHeaders, DEFAULT_POLICY, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { OidcProvider, startOidcProvider } from '../helpers/oidc';

const ARGOCD_URL = 'https://argocd.example.test';

/**
 * SSO through the whole sidecar: a real OIDC provider mounted at /api/dex like Dex, whose
 * discovery document names the public Argo CD URL, reached through --dex-server as
 * argocd-server reaches argocd-dex-server.
 */
describe('SSO sessions (Dex) through the sidecar', () => {
  const env = new Environment();
  let dex: OidcProvider;
  let stranger: OidcProvider;

  beforeAll(async () => {
    dex = await startOidcProvider({
      mountPath: '/api/dex',
      issuerOrigin: ARGOCD_URL,
      clients: [{ client_id: 'argo-cd' }, { client_id: 'argo-cd-cli' }],
    });
    stranger = await startOidcProvider({ clients: [{ client_id: 'argo-cd' }] });
    await env.start({
      cm: { url: ARGOCD_URL, 'dex.config': 'connectors: []\n' },
      policy:
        DEFAULT_POLICY +
        '\np, role:sre, extensions, invoke, anomaly, allow\ng, my-org:sre, role:sre',
      extraFlags: ['--dex-server', dex.url],
    });
  });
  afterAll(async () => {
    await env.stop();
    await dex?.stop();
    await stranger?.stop();
  });

  const call = (token: string) =>
    request(env.sidecar.url + '/extensions/anomaly/v1', {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('team-a:payments', 'team-a') },
    });

  it('lets a member of a granted group in and tells the backend who it is', async () => {
    const token = await dex.issueIdToken({
      sub: 'CiQwOGE4Njg0Yi1kYjg4LTRiNzMtOTBhOS0zY2QxNjYxZjU0NjYSBWxvY2Fs',
      email: 'dora@example.com',
      groups: ['other', 'my-org:sre'],
      federated_claims: { connector_id: 'github', user_id: 'dora-gh' },
    });
    const reply = await call(token);
    expect(reply.status).toBe(200);
    const headers = reply.json.headers as Record<string, string>;
    expect(headers['argocd-username']).toBe('dora@example.com');
    expect(headers['argocd-user-id']).toBe('dora-gh');
    expect(headers['argocd-user-groups']).toBe('other,my-org:sre');
    expect(headers.cookie).toBeUndefined();
    // The access log says who, as Argo CD's "sending proxy extension request" line does
    // (server/extension/extension.go CallExtension: user id, username, groups).
    await eventually(() => {
      const line = env.sidecar
        .logs()
        .find((l) => l.msg === 'extension request' && l.user === 'dora@example.com');
      expect(line).toMatchObject({ userId: 'dora-gh', groups: 'other,my-org:sre', status: 200 });
    });
  });

  it('accepts the CLI client as audience too', async () => {
    const token = await dex.issueIdToken(
      { sub: 'cli-user', groups: ['my-org:sre'] },
      { audience: 'argo-cd-cli' },
    );
    expect((await call(token)).status).toBe(200);
  });

  it('denies an SSO user without the group, naming the line that would grant it', async () => {
    const token = await dex.issueIdToken({
      sub: 'eve',
      email: 'eve@example.com',
      groups: ['other'],
    });
    const reply = await call(token);
    expect(reply.status).toBe(403);
    expect(reply.json.policy).toBe('p, eve, extensions, invoke, anomaly, allow');
  });

  it.each([
    [
      'an audience Argo CD does not accept',
      () => dex.issueIdToken({ sub: 'x', groups: ['my-org:sre'] }, { audience: 'grafana' }),
    ],
    [
      'an issuer that is not configured',
      () => stranger.issueIdToken({ sub: 'x', groups: ['my-org:sre'] }),
    ],
    [
      'an expired token',
      () =>
        dex.issueIdToken({
          sub: 'x',
          groups: ['my-org:sre'],
          exp: Math.floor(Date.now() / 1000) - 3600,
        }),
    ],
  ])('answers 401 for %s', async (_case, issue) => {
    const reply = await call(await issue());
    expect(reply.status).toBe(401);
  });

  it('answers 503 while the identity provider is down and its keys are not known yet', async () => {
    const token = await dex.issueIdToken({ sub: 'late', groups: ['my-org:sre'] });
    await dex.setAvailable(false);
    try {
      // A reload builds a fresh authenticator, which has fetched no keys yet.
      env.config.rbac.update({
        'policy.csv':
          DEFAULT_POLICY +
          '\np, role:sre, extensions, invoke, anomaly, allow\ng, my-org:sre, role:sre\n# reload',
      });
      await env.sidecar.waitForLog((l) => l.msg === 'configuration loaded' && l.generation === 2);
      const reply = await call(token);
      expect(reply.json).toEqual({
        error: 'identity provider unavailable: cannot verify SSO token',
        status: 503,
      });
    } finally {
      await dex.setAvailable(true);
    }
    // Failed fetches are retried at most once a second.
    await eventually(async () => expect((await call(token)).status).toBe(200), 5000);
  });
});
