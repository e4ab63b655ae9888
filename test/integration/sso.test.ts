import { appHeaders, DEFAULT_POLICY, Environment, extensionConfig } from '../helpers/environment';
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

/**
 * SSO groups that Argo CD replaces: with oidc.config `enableUserInfoGroups` and
 * `userInfoPath`, Argo CD's RBAC sees the identity provider's current groups, not the ID
 * token's (util/oidc/oidc.go SetGroupsClaimFromEndpoint, from server/server.go getClaims).
 * The sidecar takes them from Argo CD's `GET /api/v1/session/userinfo` (server/session/
 * session.go GetUserInfo), answered here by the Argo CD stand-in from setUserInfoGroups.
 * A real OIDC provider issues the tokens (an oidc.config issuer: Argo CD never replaces
 * Dex tokens' groups).
 */
describe('SSO groups Argo CD replaces (oidc.config enableUserInfoGroups) through the sidecar', () => {
  const env = new Environment();
  let idp: OidcProvider;
  const POLICY =
    DEFAULT_POLICY + '\np, role:sre, extensions, invoke, anomaly, allow\ng, my-org:sre, role:sre';
  const oidcConfig = (extra: string) =>
    `name: IdP\nissuer: ${idp.issuer}\nclientID: argo-cd\n${extra}`;
  const USERINFO_GROUPS = 'enableUserInfoGroups: true\nuserInfoPath: /userinfo\n';

  beforeAll(async () => {
    idp = await startOidcProvider({ clients: [{ client_id: 'argo-cd' }] });
    await env.start({
      cm: { url: ARGOCD_URL, 'oidc.config': oidcConfig(USERINFO_GROUPS) },
      policy: POLICY,
    });
  });
  afterAll(async () => {
    await env.stop();
    await idp?.stop();
  });

  const call = (token: string) =>
    request(env.sidecar.url + '/extensions/anomaly/v1', {
      headers: { cookie: `argocd.token=${token}`, ...appHeaders('team-a:payments', 'team-a') },
    });
  const userInfoCalls = () =>
    env.argocd.requests.filter((r) => r.path === '/api/v1/session/userinfo');

  it("refuses (403) a user whose group Argo CD no longer gives, though the token's groups claim does", async () => {
    const token = await idp.issueIdToken({ sub: 'gone', groups: ['my-org:sre'] });
    env.argocd.setUserInfoGroups('gone', ['other']);
    const before = userInfoCalls().length;
    const reply = await call(token);
    expect(reply.status).toBe(403);
    expect(reply.json.policy).toBe('p, gone, extensions, invoke, anomaly, allow');
    // Asked with the caller's own token, as the UI's session check is.
    const asked = userInfoCalls().slice(before);
    expect(asked.map(({ path, authorization }) => ({ path, authorization }))).toEqual([
      { path: '/api/v1/session/userinfo', authorization: `Bearer ${token}` },
    ]);
  });

  it("lets in a user Argo CD gives the group, tells the backend Argo CD's groups, and reuses the answer", async () => {
    const token = await idp.issueIdToken({
      sub: 'joined',
      email: 'joined@example.com',
      groups: ['old-team'],
    });
    env.argocd.setUserInfoGroups('joined', ['other', 'my-org:sre']);
    const before = userInfoCalls().length;
    const reply = await call(token);
    expect(reply.status).toBe(200);
    const headers = reply.json.headers as Record<string, string>;
    expect(headers['argocd-user-groups']).toBe('other,my-org:sre');
    expect((await call(token)).status).toBe(200);
    expect(userInfoCalls().length - before).toBe(1);
  });

  it("refuses (401) when Argo CD refuses the session because the provider's groups could not be read, never falling back to the token's", async () => {
    // getClaims failed: GetUserInfo still shows the token's groups, but not loggedIn.
    const token = await idp.issueIdToken({ sub: 'lookup-fails', groups: ['my-org:sre'] });
    env.argocd.setUserInfoGroups('lookup-fails', null);
    const reply = await call(token);
    expect(reply.json).toEqual({
      error: 'Argo CD rejected the session; log in again',
      status: 401,
    });
  });

  it.each([
    [
      'answers 500',
      () => (env.argocd.failWith = 500),
      "Argo CD API answered 500 when asked for the session's groups; try again shortly",
    ],
    [
      'drops the connection',
      () => (env.argocd.dropper.mode = 'all'),
      "Argo CD API is unreachable; cannot check the session's groups; try again shortly",
    ],
  ])('fails closed (503) when Argo CD %s', async (_case, breakArgoCD, error) => {
    const token = await idp.issueIdToken({ sub: `down-${_case}`, groups: ['my-org:sre'] });
    breakArgoCD();
    try {
      expect((await call(token)).json).toEqual({ error, status: 503 });
    } finally {
      env.argocd.failWith = undefined;
      env.argocd.dropper.reset();
    }
    expect((await call(token)).status).toBe(200);
  });

  it('uses the token groups and never asks Argo CD once enableUserInfoGroups is turned off', async () => {
    const token = await idp.issueIdToken({ sub: 'toggle', groups: ['my-org:sre'] });
    env.argocd.setUserInfoGroups('toggle', ['other']);
    expect((await call(token)).status).toBe(403);
    env.config.cm.update({
      'extension.config': extensionConfig(env.backend.url, env.secondBackend.url),
      url: ARGOCD_URL,
      'oidc.config': oidcConfig(''),
    });
    await env.sidecar.waitForLog((l) => l.msg === 'configuration loaded' && l.generation === 2);
    const before = userInfoCalls().length;
    expect((await call(token)).status).toBe(200);
    expect(userInfoCalls().length).toBe(before);
  });
});
