import { createHmac } from 'crypto';
import fc from 'fast-check';
import { SessionAuthenticator } from '../../proxy-server/src/auth/session-authenticator';
import { extractSessionToken, joinTokenCookie } from '../../proxy-server/src/auth/token-extraction';
import { AuthenticationError } from '../../proxy-server/src/errors';
import { signLocalToken, TEST_SERVER_SECRET } from '../helpers/local-tokens';

/**
 * Property-based attacks on the session path (fast-check, fixed seed, bounded runs): forged
 * JWTs of every shape, and cookie headers with arbitrary chunk counts, lengths and orders.
 * None may authenticate, none may throw anything but an AuthenticationError, and no error
 * message may echo the token. Each suite prints: cases tried, rejected, leaks (must be 0).
 */
const SEED = 20261122;
const RUNS = 300;
const NOW = Math.floor(Date.now() / 1000);
const auth = new SessionAuthenticator({
  secretKey: Buffer.from(TEST_SERVER_SECRET),
  scopes: ['groups'],
});

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const hs256 = (input: string, key: string | Buffer) =>
  createHmac('sha256', key).update(input).digest('base64url');

/** A header the attacker controls: alg tricks (none, RS/HS confusion, case), kid tricks. */
const header = fc.record(
  {
    alg: fc.constantFrom(
      'none',
      'None',
      'NONE',
      'HS256',
      'hs256',
      'HS384',
      'HS512',
      'RS256',
      'ES256',
      'PS256',
      'EdDSA',
      '',
    ),
    typ: fc.constantFrom('JWT', 'jwt', undefined),
    kid: fc.oneof(
      fc.constant('../../../../dev/null'),
      fc.constant("' OR 1=1 --"),
      fc.constant('http://127.0.0.1:1/jwks'),
      fc.string({ maxLength: 40 }),
    ),
    jku: fc.constant('http://127.0.0.1:1/jwks.json'),
    crit: fc.constantFrom(undefined, ['exp'], ['b64']),
    b64: fc.constantFrom(undefined, false),
  },
  { requiredKeys: ['alg'] },
);

/** Claims with wrong types, huge values, and time edges around now. */
const claims = fc.record(
  {
    iss: fc.oneof(
      fc.constant('argocd'),
      fc.constant('Argocd'),
      fc.constant(['argocd']),
      fc.string({ maxLength: 10 }),
    ),
    sub: fc.oneof(
      fc.constant('admin:login'),
      fc.constant('proj:x:y'),
      fc.integer(),
      fc.string({ maxLength: 20_000 }),
    ),
    exp: fc.oneof(
      fc.integer({ min: NOW - 3600, max: NOW + 3600 }),
      fc.constant('9999999999'),
      fc.constant(Number.MAX_SAFE_INTEGER),
      fc.double(),
    ),
    nbf: fc.oneof(fc.integer({ min: NOW - 60, max: NOW + 3600 }), fc.constant('0')),
    iat: fc.integer({ min: 0, max: NOW + 3600 }),
    jti: fc.oneof(fc.uuid(), fc.integer()),
    groups: fc.oneof(
      fc.constant('admins'),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    ),
  },
  { requiredKeys: [] },
);

/** How the attacker signs: not at all, with a guessed key, or with the public key as HMAC secret. */
const signing = fc.constantFrom('empty', 'garbage', 'wrong-key', 'empty-key', 'truncated');

function forge(h: object, c: object, how: string): string {
  const input = `${b64(h)}.${b64(c)}`;
  switch (how) {
    case 'empty':
      return `${input}.`;
    case 'garbage':
      return `${input}.${b64('not a signature')}`;
    case 'wrong-key':
      return `${input}.${hs256(input, 'password')}`;
    case 'empty-key':
      return `${input}.${hs256(input, '')}`;
    default:
      return `${input}.${hs256(input, TEST_SERVER_SECRET).slice(0, 20)}`;
  }
}

async function outcome(token: string): Promise<'accepted' | 'rejected' | 'crashed' | 'leaked'> {
  try {
    await auth.authenticate(token);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof AuthenticationError)) return 'crashed';
    // SECURITY: messages are fixed phrases, never the token or a part of it.
    if (token.length > 8 && err.message.includes(token.slice(-12))) return 'leaked';
    return 'rejected';
  }
}

function report(name: string, tally: Record<string, number>): void {
  const tried = Object.values(tally).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `security/${name}: ${tried} cases tried, ${tally.rejected ?? 0} rejected as expected, ` +
      `${tally.accepted ?? 0} accepted, ${tally.crashed ?? 0} crashed, ${tally.leaked ?? 0} leaks\n`,
  );
}

describe('forged session tokens (property-based)', () => {
  it('never authenticates a token not signed with server.secretkey, whatever its header and claims', async () => {
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(header, claims, signing, async (h, c, how) => {
        const result = await outcome(forge(h, c, how));
        tally[result] = (tally[result] ?? 0) + 1;
        return result === 'rejected';
      }),
      { seed: SEED, numRuns: RUNS },
    );
    report('forged-jwt', tally);
    expect(tally.rejected).toBe(RUNS);
  });

  it('rejects correctly signed tokens whose claims are wrong, expired, not yet valid or mistyped', async () => {
    const tally: Record<string, number> = {};
    const badClaims = fc.oneof(
      // Beyond the 30 s clock skew, with room for a slow machine between NOW and the check.
      fc.record({ exp: fc.integer({ min: NOW - 10_000, max: NOW - 300 }) }), // expired
      fc.record({ nbf: fc.integer({ min: NOW + 300, max: NOW + 10_000 }) }), // not yet valid
      fc.record({ iss: fc.constantFrom('Argocd', 'argo-cd', 'https://evil', '') }),
      fc.record({ sub: fc.constantFrom('', ':login', 123 as unknown as string) }),
      fc.record({
        exp: fc.constantFrom('tomorrow' as unknown as number, null as unknown as number),
      }),
    );
    await fc.assert(
      fc.asyncProperty(badClaims, async (c) => {
        const result = await outcome(signLocalToken({ sub: 'admin:login', ...c }));
        tally[result] = (tally[result] ?? 0) + 1;
        return result === 'rejected';
      }),
      { seed: SEED, numRuns: RUNS },
    );
    report('bad-claims', tally);
    expect(tally.rejected).toBe(RUNS);
  });

  it('rejects any single-character change to a valid token', async () => {
    const valid = signLocalToken({ sub: 'admin:login' });
    await expect(auth.authenticate(valid)).resolves.toMatchObject({ subject: 'admin' });
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.constantFrom(...'ABCabc012-_.'.split('')),
        async (i, ch) => {
          if (valid[i] === ch) return true;
          const mutated = valid.slice(0, i) + ch + valid.slice(i + 1);
          const result = await outcome(mutated);
          tally[result] = (tally[result] ?? 0) + 1;
          // A change in the last character's unused bits can decode to the same bytes.
          if (result === 'accepted') {
            return (
              Buffer.from(mutated.split('.')[2] ?? '', 'base64url').equals(
                Buffer.from(valid.split('.')[2], 'base64url'),
              ) &&
              mutated.split('.').slice(0, 2).join('.') === valid.split('.').slice(0, 2).join('.')
            );
          }
          return result === 'rejected';
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    report('mutated-jwt', tally);
    expect(tally.crashed ?? 0).toBe(0);
    expect(tally.leaked ?? 0).toBe(0);
  });
});

describe('session cookies (property-based)', () => {
  const token = signLocalToken({ sub: 'admin:login' });

  /** Argo CD's own chunking: `argocd.token=<N>:<part>`, then argocd.token-1..N-1. */
  function chunked(value: string, parts: number): string[] {
    const size = Math.ceil(value.length / parts);
    const pieces = Array.from({ length: parts }, (_, i) => value.slice(i * size, (i + 1) * size));
    return pieces.map((p, i) =>
      i === 0 ? `argocd.token=${parts}:${p}` : `argocd.token-${i}=${p}`,
    );
  }

  it('reassembles exactly what Argo CD writes, in any cookie order, among other cookies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.constantFrom('theme=dark', 'other=1', '_ga=GA1.2.3'), { maxLength: 3 }),
        fc.infiniteStream(fc.nat()),
        (parts, others, randoms) => {
          const cookies = [...chunked(token, parts), ...others];
          const shuffled = cookies
            .map((c) => ({ c, r: randoms.next().value }))
            .sort((a, b) => a.r - b.r)
            .map((x) => x.c);
          return extractSessionToken({ cookie: shuffled.join('; ') }) === token;
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('refuses malformed chunk sets (wrong count, a missing or empty part, duplicates) without throwing anything else', () => {
    const tally: Record<string, number> = {};
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20 }),
        fc.constantFrom(
          'count-too-high',
          'count-too-low',
          'missing',
          'empty',
          'duplicate',
          'bad-count',
          'huge-count',
        ),
        fc.nat(),
        (parts, flaw, pick) => {
          let cookies = chunked(token, parts);
          const i = 1 + (pick % (parts - 1));
          switch (flaw) {
            case 'count-too-high':
              cookies[0] = cookies[0].replace(`=${parts}:`, `=${parts + 1}:`);
              break;
            case 'count-too-low':
              cookies[0] = cookies[0].replace(`=${parts}:`, `=${parts - 1}:`);
              break;
            case 'missing':
              cookies = cookies.filter((_, j) => j !== i);
              break;
            case 'empty':
              cookies[i] = `argocd.token-${i}=`;
              break;
            case 'duplicate':
              cookies.push(cookies[i]);
              break;
            case 'bad-count':
              cookies[0] = cookies[0].replace(`=${parts}:`, '=x:');
              break;
            default:
              cookies[0] = cookies[0].replace(`=${parts}:`, '=99999999999999999999:');
          }
          let result: string;
          try {
            const joined = joinTokenCookie(cookies.join('; '));
            result = joined === token ? 'accepted' : 'rejected';
          } catch (err) {
            result = err instanceof AuthenticationError ? 'rejected' : 'crashed';
          }
          tally[result] = (tally[result] ?? 0) + 1;
          return result === 'rejected';
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    report('cookie-chunks', tally);
    expect(tally.rejected).toBe(RUNS);
  });

  it('never throws anything but an AuthenticationError on arbitrary Cookie and Authorization headers', () => {
    let tried = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })),
        fc.option(fc.string({ maxLength: 200 })),
        (cookie, authorization) => {
          tried++;
          try {
            extractSessionToken({
              cookie,
              ...(authorization === null ? {} : { authorization }),
            });
          } catch (err) {
            return err instanceof AuthenticationError;
          }
          return true;
        },
      ),
      { seed: SEED, numRuns: RUNS * 3 },
    );
    process.stdout.write(`security/cookie-fuzz: ${tried} cases tried, 0 crashes\n`);
  });
});
