import { createHmac, generateKeyPairSync, KeyObject } from 'crypto';
import { SignJWT } from 'jose';
import {
  SessionAuthenticator,
  SessionAuthenticatorOptions,
} from '../../../proxy-server/src/auth/session-authenticator';
import { OidcIssuerConfig, resolveSsoIssuer } from '../../../proxy-server/src/auth/sso-settings';
import { ProxyError } from '../../../proxy-server/src/errors';
import { createLogger } from '../../../proxy-server/src/logger';
import { TEST_SERVER_SECRET } from '../../helpers/local-tokens';
import { OidcProvider, startOidcProvider } from '../../helpers/oidc';

const PUBLIC_ARGOCD_URL = 'https://argocd.example.test';

/** An authenticator with a clock the test can move forward. */
function ssoAuthenticator(
  sso: OidcIssuerConfig,
  options: SessionAuthenticatorOptions & { scopes?: string[] } = {},
) {
  const clock = { offsetMs: 0 };
  const auth = new SessionAuthenticator(
    { secretKey: Buffer.from(TEST_SERVER_SECRET), sso, scopes: options.scopes ?? ['groups'] },
    { now: () => Date.now() + clock.offsetMs, ...options },
  );
  return { auth, clock };
}

async function rejection(auth: SessionAuthenticator, token: string): Promise<ProxyError> {
  const err: unknown = await auth.authenticate(token).then(
    () => new Error('expected authenticate to reject'),
    (e: unknown) => e,
  );
  if (err instanceof ProxyError) return err;
  throw err;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function foreignKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

describe('SessionAuthenticator with Dex (real OpenID provider at /api/dex)', () => {
  let dex: OidcProvider;
  let sso: OidcIssuerConfig;

  beforeAll(async () => {
    // Served on loopback, but its issuer and discovery name the public Argo CD URL: keys are
    // only reachable through fetchBaseUrl, as Dex is through argocd-dex-server.
    dex = await startOidcProvider({
      mountPath: '/api/dex',
      issuerOrigin: PUBLIC_ARGOCD_URL,
      clients: [{ client_id: 'argo-cd' }, { client_id: 'argo-cd-cli' }, { client_id: 'other-app' }],
    });
    const resolved = resolveSsoIssuer(
      { url: PUBLIC_ARGOCD_URL, 'dex.config': 'connectors: [{type: github, id: github}]' },
      { dexServer: dex.url },
    );
    expect(resolved.problems).toEqual([]);
    sso = resolved.issuer!;
  });

  afterAll(() => dex?.stop());

  it('maps a Dex token: federated user id as subject, email as username, groups', async () => {
    const { auth } = ssoAuthenticator(sso);
    const token = await dex.issueIdToken({
      sub: 'CgVhbGljZRIGZ2l0aHVi',
      email: 'alice@example.com',
      groups: ['dev', 'ops'],
      federated_claims: { connector_id: 'github', user_id: 'alice' },
    });
    await expect(auth.authenticate(token)).resolves.toEqual({
      subject: 'alice',
      username: 'alice@example.com',
      userId: 'alice',
      groups: ['dev', 'ops'],
      issuer: `${PUBLIC_ARGOCD_URL}/api/dex`,
      expiresAt: expect.any(Number),
    });
  });

  it('falls back to sub for the subject and to the subject for the username', async () => {
    const { auth } = ssoAuthenticator(sso);
    const token = await dex.issueIdToken({ sub: 'bob' });
    await expect(auth.authenticate(token)).resolves.toMatchObject({
      subject: 'bob',
      username: 'bob',
      userId: 'bob',
      groups: [],
    });
  });

  it('accepts the CLI client as audience, and a list that contains an allowed one', async () => {
    const { auth } = ssoAuthenticator(sso);
    await expect(
      auth.authenticate(await dex.issueIdToken({}, { audience: 'argo-cd-cli' })),
    ).resolves.toMatchObject({ subject: 'test-user' });
    await expect(
      auth.authenticate(await dex.issueIdToken({}, { audience: ['other-app', 'argo-cd'] })),
    ).resolves.toMatchObject({ subject: 'test-user' });
  });

  it('reads groups from every configured scope claim, string or list', async () => {
    const { auth } = ssoAuthenticator(sso, { scopes: ['groups', 'roles', 'missing'] });
    const token = await dex.issueIdToken({ groups: ['dev', 42, 'ops'], roles: 'approver' });
    await expect(auth.authenticate(token)).resolves.toMatchObject({
      groups: ['dev', 'ops', 'approver'],
    });
  });

  it('fetches discovery and keys once, then verifies from cached keys', async () => {
    const { auth } = ssoAuthenticator(sso);
    const before = await dex.fetchCounts();
    for (const user of ['u1', 'u2', 'u3']) {
      await auth.authenticate(await dex.issueIdToken({ sub: user }));
    }
    const after = await dex.fetchCounts();
    expect(after.discovery - before.discovery).toBe(1);
    expect(after.jwks - before.jwks).toBe(1);
  });

  describe('rejections', () => {
    let publicKeyPem: string;
    let signingKid: string;

    beforeAll(async () => {
      const { keys } = await dex.publicJwks();
      signingKid = keys[0].kid as string;
      const { createPublicKey } = await import('crypto');
      publicKeyPem = createPublicKey({ key: keys[0] as never, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
    });

    const now = () => Math.floor(Date.now() / 1000);
    const claims = () => ({
      iss: sso.issuer,
      sub: 'mallory',
      aud: 'argo-cd',
      iat: now(),
      exp: now() + 3600,
    });
    const hs256 = (secret: string) => {
      const input = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims())}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };

    it.each<[string, () => Promise<string> | string, string]>([
      ['an expired token', () => dex.issueIdToken({ exp: now() - 10 }), 'token expired'],
      ['a token without exp', () => dex.issueIdToken({ exp: null }), 'token has no exp claim'],
      [
        'a token not yet valid',
        () => dex.issueIdToken({ nbf: now() + 600 }),
        'token not yet valid',
      ],
      [
        'a token for another client',
        () => dex.issueIdToken({}, { audience: 'other-app' }),
        'token audience not allowed',
      ],
      [
        'an audience list without an allowed one',
        () => dex.issueIdToken({}, { audience: ['a', 'b'] }),
        'token audience not allowed',
      ],
      [
        'a token without aud (Dex always sets one)',
        () => dex.issueIdToken({}, { audience: null }),
        'token has no audience',
      ],
      ['a token without subject', () => dex.issueIdToken({ sub: null }), 'token has no subject'],
      [
        'an issuer that differs by a trailing slash',
        () => dex.issueIdToken({ iss: `${sso.issuer}/` }, { alg: 'RS256' }),
        'unknown token issuer',
      ],
      [
        'a token signed by another key under the provider kid',
        async () =>
          new SignJWT(claims())
            .setProtectedHeader({ alg: 'RS256', kid: signingKid })
            .sign(foreignKey()),
        'invalid token signature',
      ],
      [
        'a token signed by an unknown key',
        async () =>
          new SignJWT(claims())
            .setProtectedHeader({ alg: 'RS256', kid: 'evil' })
            .sign(foreignKey()),
        'token signed by an unknown key',
      ],
      [
        'alg none',
        () => `${base64url({ alg: 'none' })}.${base64url(claims())}.`,
        'token algorithm not allowed',
      ],
      [
        'HS256 keyed with the provider public key (algorithm confusion)',
        () => hs256(publicKeyPem),
        'token algorithm not allowed',
      ],
      [
        'an RS256 token from the provider claiming iss argocd',
        () => dex.issueIdToken({ iss: 'argocd', jti: 'x' }, { alg: 'RS256' }),
        'token algorithm not allowed',
      ],
    ])('rejects %s with 401', async (_case, makeToken, message) => {
      const { auth } = ssoAuthenticator(sso);
      // Load the keys first so that a key mismatch is not answered by a refetch.
      await auth.authenticate(await dex.issueIdToken({ sub: 'warm-up' }));
      const token = await makeToken();
      const err = await rejection(auth, token);
      expect(err.message).toBe(message);
      expect(err.status).toBe(401);
      expect(err).toMatchObject({ reason: message === 'token expired' ? 'expired' : 'invalid' });
      expect(err.message).not.toContain(token.split('.')[1]);
    });

    it('rejects a token of another issuer', async () => {
      const other = await startOidcProvider();
      try {
        const { auth } = ssoAuthenticator(sso);
        const err = await rejection(auth, await other.issueIdToken({}));
        expect(err.message).toBe('unknown token issuer');
      } finally {
        await other.stop();
      }
    });
  });
});

describe('SessionAuthenticator with an oidc.config issuer', () => {
  let idp: OidcProvider;

  beforeAll(async () => {
    // Signs ID tokens with ES256 and says so in discovery; it also publishes an RSA key.
    idp = await startOidcProvider({
      mountPath: '/oauth2/default',
      keyAlgs: ['ES256', 'RS256'],
      idTokenAlgs: ['ES256'],
      clients: [
        { client_id: 'argo', id_token_signed_response_alg: 'ES256' },
        { client_id: 'argo-cli', id_token_signed_response_alg: 'ES256' },
      ],
    });
  });

  afterAll(() => idp?.stop());

  function oidcSettings(extra = ''): OidcIssuerConfig {
    const resolved = resolveSsoIssuer(
      {
        'oidc.config': `name: IdP\nissuer: ${idp.issuer}\nclientID: argo\ncliClientID: argo-cli\n${extra}`,
      },
      { dexServer: 'http://unused:5556' },
    );
    expect(resolved.problems).toEqual([]);
    return resolved.issuer!;
  }

  it('verifies the issuer ES256 tokens for clientID and cliClientID', async () => {
    const { auth } = ssoAuthenticator(oidcSettings());
    const token = await idp.issueIdToken({ sub: 'carol', email: 'carol@example.com' });
    await expect(auth.authenticate(token)).resolves.toMatchObject({
      subject: 'carol',
      username: 'carol@example.com',
    });
    const cli = await idp.issueIdToken({ sub: 'carol' }, { audience: 'argo-cli' });
    await expect(auth.authenticate(cli)).resolves.toMatchObject({ subject: 'carol' });
  });

  it('rejects an algorithm discovery does not advertise, even signed by a published key', async () => {
    const { auth } = ssoAuthenticator(oidcSettings());
    const token = await idp.issueIdToken({ sub: 'carol' }, { alg: 'RS256' });
    expect((await rejection(auth, token)).message).toBe('token algorithm not allowed');
  });

  it('checks allowedAudiences instead of the client ids when they are set', async () => {
    const { auth } = ssoAuthenticator(oidcSettings('allowedAudiences: [api://argo]\n'));
    expect((await rejection(auth, await idp.issueIdToken({}))).message).toBe(
      'token audience not allowed',
    );
    const token = await idp.issueIdToken({}, { audience: ['api://argo', 'other'] });
    await expect(auth.authenticate(token)).resolves.toMatchObject({ subject: 'test-user' });
  });

  it.each([
    ['rejects', '', 'token has no audience'],
    ['accepts', 'skipAudienceCheckWhenTokenHasNoAudience: true\n', undefined],
  ])(
    '%s a token without aud per skipAudienceCheckWhenTokenHasNoAudience',
    async (_case, extra, message) => {
      const { auth } = ssoAuthenticator(oidcSettings(extra));
      const token = await idp.issueIdToken({}, { audience: null });
      if (message) expect((await rejection(auth, token)).message).toBe(message);
      else await expect(auth.authenticate(token)).resolves.toMatchObject({ subject: 'test-user' });
    },
  );

  it('still checks the audience of a token that has one when skipAudienceCheck is set', async () => {
    const { auth } = ssoAuthenticator(
      oidcSettings('skipAudienceCheckWhenTokenHasNoAudience: true\n'),
    );
    const token = await idp.issueIdToken({}, { audience: 'someone-else' });
    expect((await rejection(auth, token)).message).toBe('token audience not allowed');
  });
});

describe('SSO key rotation and availability', () => {
  let idp: OidcProvider;
  let sso: OidcIssuerConfig;

  beforeEach(async () => {
    idp = await startOidcProvider({ mountPath: '/api/dex', clients: [{ client_id: 'argo-cd' }] });
    sso = { issuer: idp.issuer, audiences: ['argo-cd'], skipAudienceCheck: false };
  });

  afterEach(() => idp?.stop());

  it('picks up rotated keys and stops trusting withdrawn ones', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    const verifiedBefore = await idp.issueIdToken({ sub: 'a' });
    const unseenOldKey = await idp.issueIdToken({ sub: 'b' });
    await auth.authenticate(verifiedBefore);

    await idp.rotateKeys();
    clock.offsetMs += 10_000; // past the refresh cooldown
    await expect(auth.authenticate(await idp.issueIdToken({ sub: 'c' }))).resolves.toMatchObject({
      subject: 'c',
    });

    // Policy: after the refetch only published keys count; a verification made before the
    // rotation stays cached (at most five minutes, or until exp).
    clock.offsetMs += 10_000;
    expect((await rejection(auth, unseenOldKey)).message).toBe('token signed by an unknown key');
    expect(auth.lookupCached(verifiedBefore)).toMatchObject({ subject: 'a' });
  });

  it('keeps accepting tokens of old keys the issuer still publishes', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    const old = await idp.issueIdToken({ sub: 'old' });
    await auth.authenticate(await idp.issueIdToken({ sub: 'warm-up' }));
    await idp.rotateKeys({ keepOld: true });
    clock.offsetMs += 10_000;
    await expect(auth.authenticate(await idp.issueIdToken({ sub: 'new' }))).resolves.toMatchObject({
      subject: 'new',
    });
    await expect(auth.authenticate(old)).resolves.toMatchObject({ subject: 'old' });
  });

  it('refetches keys at most once per cooldown, however many unknown keys are presented', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    await auth.authenticate(await idp.issueIdToken({ sub: 'warm-up' }));
    await idp.rotateKeys();
    const rotated = await idp.issueIdToken({ sub: 'rotated' });
    const before = await idp.fetchCounts();
    for (let i = 0; i < 5; i++) {
      expect((await rejection(auth, await idp.issueIdToken({ sub: `n${i}` }))).message).toBe(
        'token signed by an unknown key',
      );
    }
    expect(await idp.fetchCounts()).toEqual(before);
    clock.offsetMs += 10_000;
    await expect(auth.authenticate(rotated)).resolves.toMatchObject({ subject: 'rotated' });
    expect((await idp.fetchCounts()).jwks).toBe(before.jwks + 1);
  });

  it('answers 503 "identity provider unavailable" while the issuer is down, and recovers', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    const token = await idp.issueIdToken({ sub: 'dora' });
    await idp.setAvailable(false);
    const err = await rejection(auth, token);
    expect(err.message).toBe('identity provider unavailable: cannot verify SSO token');
    expect(err.status).toBe(503);
    await idp.setAvailable(true);
    clock.offsetMs += 1000;
    await expect(auth.authenticate(token)).resolves.toMatchObject({ subject: 'dora' });
  });

  it('keeps verifying with cached keys while the issuer is down', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    await auth.authenticate(await idp.issueIdToken({ sub: 'warm-up' }));
    await idp.setAvailable(false);
    await expect(auth.authenticate(await idp.issueIdToken({ sub: 'erin' }))).resolves.toMatchObject(
      { subject: 'erin' },
    );
    // Even once the keys are due for a refresh (10 minutes): the refresh fails, the keys stay.
    clock.offsetMs += 11 * 60_000;
    await expect(
      auth.authenticate(await idp.issueIdToken({ sub: 'frank' })),
    ).resolves.toMatchObject({
      subject: 'frank',
    });
  });

  it('answers "identity provider unavailable" when a new key cannot be fetched', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    await auth.authenticate(await idp.issueIdToken({ sub: 'warm-up' }));
    await idp.rotateKeys();
    const rotated = await idp.issueIdToken({ sub: 'rotated' });
    await idp.setAvailable(false);
    clock.offsetMs += 10_000;
    expect((await rejection(auth, rotated)).message).toBe(
      'identity provider unavailable: cannot verify SSO token',
    );
  });

  it('shares one key refetch between concurrent tokens of a new key', async () => {
    const { auth, clock } = ssoAuthenticator(sso);
    await auth.authenticate(await idp.issueIdToken({ sub: 'warm-up' }));
    await idp.rotateKeys();
    const tokens = await Promise.all(['a', 'b', 'c', 'd'].map((sub) => idp.issueIdToken({ sub })));
    const before = await idp.fetchCounts();
    clock.offsetMs += 10_000;
    const identities = await Promise.all(tokens.map((token) => auth.authenticate(token)));
    expect(identities.map((identity) => identity.subject)).toEqual(['a', 'b', 'c', 'd']);
    expect((await idp.fetchCounts()).jwks).toBe(before.jwks + 1);
  });

  it('refuses keys from a discovery document that names another issuer', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const spoofed = { ...sso, issuer: `${PUBLIC_ARGOCD_URL}/api/dex`, fetchBaseUrl: idp.url };
    const { auth } = ssoAuthenticator(spoofed, { logger });
    const token = await idp.issueIdToken({ iss: spoofed.issuer }, { alg: 'RS256' });
    const err = await rejection(auth, token);
    expect(err.message).toBe('identity provider unavailable: cannot verify SSO token');
    expect(lines.join('\n')).toContain('discovery document is for a different issuer');
    expect(lines.join('\n')).not.toContain(token.split('.')[1]);
  });

  it('answers 401 when the issuer does not listen at all', async () => {
    await idp.stop();
    const { auth } = ssoAuthenticator(sso);
    const token = `${base64url({ alg: 'RS256', kid: 'k' })}.${base64url({ iss: sso.issuer, sub: 'x' })}.sig`;
    const err = await rejection(auth, token);
    expect(err.message).toBe('identity provider unavailable: cannot verify SSO token');
  });
});
