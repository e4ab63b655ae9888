import {
  ArgoCDSessionApi,
  argoCDReplacesGroups,
  EFFECTIVE_GROUPS_MAX_AGE_MS,
  fetchEffectiveGroups,
  USERINFO_PATH,
} from '../../../proxy-server/src/auth/effective-groups';
import {
  SessionAuthenticator,
  SessionAuthenticatorOptions,
} from '../../../proxy-server/src/auth/session-authenticator';
import { OidcIssuerConfig, resolveSsoIssuer } from '../../../proxy-server/src/auth/sso-settings';
import { ProxyError } from '../../../proxy-server/src/errors';
import { eventually } from '../../helpers/http-client';
import { localSession, TEST_SERVER_SECRET } from '../../helpers/local-tokens';
import { OidcProvider, startOidcProvider } from '../../helpers/oidc';

type Answer = { status: number; body: string } | Error;

/**
 * A stand-in for the Argo CD API connection: answers `/api/v1/session/userinfo` as
 * server/session/session.go GetUserInfo would, from what the test sets, and counts calls.
 */
function fakeArgoCD(answer: (token: string) => Answer = () => loggedIn([])) {
  const calls: Array<{ path: string; token: string }> = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const api: ArgoCDSessionApi = {
    async get(path, token) {
      calls.push({ path, token });
      if (gate) await gate;
      const result = answer(token);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return {
    api,
    calls,
    /** Holds every answer until the returned function is called. */
    hold(): () => void {
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release?.();
      };
    },
  };
}

/** GetUserInfo's answer for a session Argo CD accepts (grpc-gateway omits empty fields). */
function loggedIn(
  groups: string[],
  username = 'user@example.com',
): { status: number; body: string } {
  return {
    status: 200,
    body: JSON.stringify({
      loggedIn: true,
      username,
      iss: 'https://idp.example.com',
      ...(groups.length > 0 ? { groups } : {}),
    }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<ProxyError> {
  const err: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (err instanceof ProxyError) return err;
  throw err;
}

describe('argoCDReplacesGroups (util/oidc SetGroupsClaimFromEndpoint)', () => {
  const overage = {
    _claim_names: { groups: 'src1' },
    _claim_sources: { src1: { endpoint: 'https://graph.windows.net/x/getMemberObjects' } },
  };

  it.each<[string, Parameters<typeof argoCDReplacesGroups>[0], Record<string, unknown>, boolean]>([
    ['userinfo groups, any token', 'userinfo', { groups: ['a'] }, true],
    ['no replacement configured (Dex, plain oidc.config)', undefined, overage, false],
    ['an Azure token with the groups overage', 'azure-overage', overage, true],
    ['an Azure token with its groups in the token', 'azure-overage', { groups: ['a'] }, false],
    [
      'an overage without _claim_sources',
      'azure-overage',
      { _claim_names: { groups: 'src1' } },
      false,
    ],
    [
      'a null _claim_sources',
      'azure-overage',
      { _claim_names: { groups: 'src1' }, _claim_sources: null },
      false,
    ],
    [
      '_claim_names that is not an object',
      'azure-overage',
      { _claim_names: ['groups'], _claim_sources: {} },
      false,
    ],
    [
      '_claim_names without groups',
      'azure-overage',
      { _claim_names: { roles: 'src1' }, _claim_sources: {} },
      false,
    ],
    [
      'a groups overage whose source is not an object (hasAzureGroupsClaimOverflow only checks presence)',
      'azure-overage',
      { _claim_names: { groups: null }, _claim_sources: 'x' },
      true,
    ],
  ])('%s', (_case, replacement, claims, expected) => {
    expect(argoCDReplacesGroups(replacement, claims)).toBe(expected);
  });
});

describe('fetchEffectiveGroups (GET /api/v1/session/userinfo, session.go GetUserInfo)', () => {
  it('asks Argo CD with the caller token and takes the groups of a logged-in session', async () => {
    const argocd = fakeArgoCD(() => loggedIn(['effective']));
    await expect(fetchEffectiveGroups(argocd.api, 'the-token')).resolves.toEqual(['effective']);
    expect(argocd.calls).toEqual([{ path: USERINFO_PATH, token: 'the-token' }]);
  });

  it('reads groups left out (no groups after the replacement) as none', async () => {
    const argocd = fakeArgoCD(() => loggedIn([]));
    await expect(fetchEffectiveGroups(argocd.api, 't')).resolves.toEqual([]);
  });

  it.each([
    // getClaims failed (the provider's userinfo or Graph failed, the session is revoked):
    // Argo CD still shows the token's own claims, without loggedIn.
    ['the token groups without loggedIn', { username: 'u', iss: 'x', groups: ['from-token'] }],
    ['loggedIn false', { loggedIn: false, groups: ['from-token'] }],
    ['an empty answer (no session)', {}],
    ['the expired-SSO answer', { iss: 'sso' }],
  ])('refuses the session (401, no fallback) on %s', async (_case, body) => {
    const argocd = fakeArgoCD(() => ({ status: 200, body: JSON.stringify(body) }));
    const err = await rejection(fetchEffectiveGroups(argocd.api, 't'));
    expect(err.status).toBe(401);
    expect(err.message).toBe('Argo CD rejected the session; log in again');
  });

  it.each<[string, Answer, string]>([
    [
      'a network error',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      "Argo CD API is unreachable; cannot check the session's groups; try again shortly",
    ],
    [
      'a timeout',
      new Error('no answer within 10000 ms'),
      "Argo CD API is unreachable; cannot check the session's groups; try again shortly",
    ],
    [
      'a 500',
      { status: 500, body: '{"error":"internal","code":13}' },
      "Argo CD API answered 500 when asked for the session's groups; try again shortly",
    ],
    [
      'a 401 from something in front of Argo CD',
      { status: 401, body: '' },
      "Argo CD API answered 401 when asked for the session's groups; try again shortly",
    ],
    [
      'a body that is not JSON',
      { status: 200, body: '<html>' },
      'Argo CD API returned an unreadable answer about the session',
    ],
    [
      'groups that are not strings',
      { status: 200, body: '{"loggedIn":true,"groups":[1]}' },
      'Argo CD API returned an unreadable answer about the session',
    ],
  ])('fails closed with 503 on %s', async (_case, answer, message) => {
    const argocd = fakeArgoCD(() => answer);
    const err = await rejection(fetchEffectiveGroups(argocd.api, 't'));
    expect(err.status).toBe(503);
    expect(err.message).toBe(message);
  });

  it('fails closed with 503 when there is no Argo CD API client to ask', async () => {
    expect((await rejection(fetchEffectiveGroups(undefined, 't'))).status).toBe(503);
  });
});

describe('SessionAuthenticator with groups Argo CD replaces (real OpenID provider)', () => {
  let idp: OidcProvider;

  beforeAll(async () => {
    idp = await startOidcProvider({ clients: [{ client_id: 'argo-cd' }] });
  });
  afterAll(() => idp?.stop());

  function sso(extra: string): OidcIssuerConfig {
    const resolved = resolveSsoIssuer(
      { 'oidc.config': `issuer: ${idp.issuer}\nclientID: argo-cd\n${extra}` },
      { dexServer: 'http://unused:5556' },
    );
    expect(resolved.problems).toEqual([]);
    return resolved.issuer!;
  }
  const USERINFO = 'enableUserInfoGroups: true\nuserInfoPath: /userinfo\n';
  const AZURE = 'azure:\n  enableUserGroupOverageClaim: true\n';

  function authenticator(
    config: OidcIssuerConfig,
    argocd: ReturnType<typeof fakeArgoCD> | undefined,
    options: SessionAuthenticatorOptions = {},
  ) {
    const clock = { offsetMs: 0 };
    const auth = new SessionAuthenticator(
      { secretKey: Buffer.from(TEST_SERVER_SECRET), sso: config, scopes: ['groups'] },
      { now: () => Date.now() + clock.offsetMs, argocdApi: argocd?.api, ...options },
    );
    return { auth, clock };
  }

  it("uses Argo CD's groups instead of the token's with enableUserInfoGroups", async () => {
    const argocd = fakeArgoCD(() => loggedIn(['now-at-provider']));
    const { auth } = authenticator(sso(USERINFO), argocd);
    const token = await idp.issueIdToken({ sub: 'u1', groups: ['in-token'] });
    await expect(auth.authenticate(token)).resolves.toMatchObject({
      subject: 'u1',
      groups: ['now-at-provider'],
    });
    expect(argocd.calls).toEqual([{ path: USERINFO_PATH, token }]);
  });

  it('answers from the cache synchronously, then asks again after EFFECTIVE_GROUPS_MAX_AGE_MS', async () => {
    let groups = ['first'];
    const argocd = fakeArgoCD(() => loggedIn(groups));
    const { auth, clock } = authenticator(sso(USERINFO), argocd);
    const token = await idp.issueIdToken({ sub: 'u2', groups: ['in-token'] });
    await auth.authenticate(token);
    groups = ['second'];
    clock.offsetMs = EFFECTIVE_GROUPS_MAX_AGE_MS - 1_000;
    expect(auth.lookupCached(token)?.groups).toEqual(['first']);
    await expect(auth.authenticate(token)).resolves.toMatchObject({ groups: ['first'] });
    expect(argocd.calls).toHaveLength(1);
    // A token needing no replacement stays 5 minutes; this one only a minute.
    clock.offsetMs = EFFECTIVE_GROUPS_MAX_AGE_MS;
    expect(auth.lookupCached(token)).toBeUndefined();
    await expect(auth.authenticate(token)).resolves.toMatchObject({ groups: ['second'] });
    expect(argocd.calls).toHaveLength(2);
  });

  it("never keeps Argo CD's answer past the token's exp", async () => {
    const argocd = fakeArgoCD(() => loggedIn(['g']));
    const { auth, clock } = authenticator(sso(USERINFO), argocd);
    const token = await idp.issueIdToken({ sub: 'u3', exp: Math.floor(Date.now() / 1000) + 20 });
    await expect(auth.authenticate(token)).resolves.toMatchObject({ groups: ['g'] });
    clock.offsetMs = 19_000;
    expect(auth.lookupCached(token)?.groups).toEqual(['g']);
    clock.offsetMs = 21_000;
    expect(auth.lookupCached(token)).toBeUndefined();
  });

  it('shares one call among concurrent requests with the same token', async () => {
    const argocd = fakeArgoCD(() => loggedIn(['g']));
    const { auth } = authenticator(sso(USERINFO), argocd);
    const token = await idp.issueIdToken({ sub: 'u4' });
    const release = argocd.hold();
    const all = Promise.all([1, 2, 3].map(() => auth.authenticate(token)));
    // The three have started before Argo CD is asked; its answer is held until released.
    await eventually(() => expect(argocd.calls).toHaveLength(1));
    release();
    expect((await all).map((identity) => identity.groups)).toEqual([['g'], ['g'], ['g']]);
    expect(argocd.calls).toHaveLength(1);
  });

  it('bounds the cached answers by the token cache size', async () => {
    const argocd = fakeArgoCD(() => loggedIn(['g']));
    const { auth } = authenticator(sso(USERINFO), argocd, { cacheSize: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => idp.issueIdToken({ sub })));
    for (const token of tokens) await auth.authenticate(token);
    expect(tokens.map((token) => auth.lookupCached(token) !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
    await auth.authenticate(tokens[0]);
    expect(argocd.calls).toHaveLength(4);
  });

  it('refuses the token, without caching the failure, when Argo CD refuses it or cannot be asked', async () => {
    let answer: Answer = { status: 200, body: JSON.stringify({ groups: ['in-token'] }) };
    const argocd = fakeArgoCD(() => answer);
    const { auth } = authenticator(sso(USERINFO), argocd);
    const token = await idp.issueIdToken({ sub: 'u5', groups: ['in-token'] });
    expect((await rejection(auth.authenticate(token))).status).toBe(401);
    expect(auth.lookupCached(token)).toBeUndefined();
    answer = new Error('connect ECONNREFUSED');
    expect((await rejection(auth.authenticate(token))).status).toBe(503);
    answer = loggedIn(['g']);
    await expect(auth.authenticate(token)).resolves.toMatchObject({ groups: ['g'] });
    expect(argocd.calls).toHaveLength(3);
  });

  it('refuses such tokens (503) when it has no Argo CD API to ask', async () => {
    const { auth } = authenticator(sso(USERINFO), undefined);
    const token = await idp.issueIdToken({ sub: 'u6', groups: ['g'] });
    expect((await rejection(auth.authenticate(token))).status).toBe(503);
  });

  it('asks Argo CD for Azure tokens with the groups overage only', async () => {
    const argocd = fakeArgoCD(() => loggedIn(['graph-group-id']));
    const { auth } = authenticator(sso(AZURE), argocd);
    const plain = await idp.issueIdToken({ sub: 'az1', groups: ['in-token'] });
    await expect(auth.authenticate(plain)).resolves.toMatchObject({ groups: ['in-token'] });
    expect(argocd.calls).toHaveLength(0);
    const overage = await idp.issueIdToken({
      sub: 'az2',
      _claim_names: { groups: 'src1' },
      _claim_sources: {
        src1: { endpoint: 'https://graph.windows.net/t/users/az2/getMemberObjects' },
      },
    });
    await expect(auth.authenticate(overage)).resolves.toMatchObject({
      groups: ['graph-group-id'],
    });
    expect(argocd.calls).toEqual([{ path: USERINFO_PATH, token: overage }]);
  });

  it('asks Argo CD only for the tokens whose groups Argo CD replaces', async () => {
    const argocd = fakeArgoCD(() => loggedIn(['from-argocd']));
    const cases: Array<[string, string, () => Promise<string> | string]> = [
      ['enableUserInfoGroups with userInfoPath', USERINFO, () => idp.issueIdToken({ sub: 'a' })],
      ['no option', '', () => idp.issueIdToken({ sub: 'b', groups: ['in-token'] })],
      [
        'enableUserInfoGroups without userInfoPath',
        'enableUserInfoGroups: true\n',
        () => idp.issueIdToken({ sub: 'c', groups: ['in-token'] }),
      ],
      [
        'userInfoPath without enableUserInfoGroups',
        'userInfoPath: /userinfo\n',
        () => idp.issueIdToken({ sub: 'd', groups: ['in-token'] }),
      ],
      // SetGroupsClaimFromEndpoint skips tokens of issuer `argocd`.
      ['a local token with enableUserInfoGroups', USERINFO, () => localSession('alice')],
    ];
    const groups: Record<string, string[]> = {};
    for (const [name, extra, issue] of cases) {
      const { auth } = authenticator(sso(extra), argocd);
      const token = await issue();
      groups[name] = (await auth.authenticate(token)).groups;
    }
    expect(groups).toEqual({
      'enableUserInfoGroups with userInfoPath': ['from-argocd'],
      'no option': ['in-token'],
      'enableUserInfoGroups without userInfoPath': ['in-token'],
      'userInfoPath without enableUserInfoGroups': ['in-token'],
      'a local token with enableUserInfoGroups': [],
    });
    expect(argocd.calls).toHaveLength(1);
  });
});
