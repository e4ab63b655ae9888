import { appHeaders, Environment } from '../helpers/environment';
import { eventually, request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

/**
 * `policy.matchMode: regex` with a pattern a backtracking engine takes 2^n steps on, and
 * callers who pick the extension name in the path: the real sidecar must answer them at once
 * and keep serving everyone else, as Argo CD does with Go's linear-time regexp.
 */
const REGEX_POLICY = [
  'p, alice, extensions, invoke, ^(a+)+b$, allow',
  'p, alice, extensions, invoke, ^anomaly$, allow',
].join('\n');

/** The longest name a path may carry (extension-path.ts refuses longer ones with a 400). */
const LONGEST_NAME = 253;

/**
 * Far above what these few loopback requests take on a slow, busy machine; a sidecar blocked
 * by backtracking would not answer at all (2^253 steps).
 */
const GENEROUS_MS = 10_000;

describe("a regex policy against hostile extension names (Go's linear-time regexp)", () => {
  const env = new Environment();
  const alice = localSession('alice');
  const call = (path: string) =>
    request(env.sidecar.url + path, {
      headers: { cookie: `argocd.token=${alice}`, ...appHeaders('argocd:guestbook', 'default') },
    });

  beforeAll(async () => {
    // Glob mode first: there `^anomaly$` is literal text and does not grant `anomaly`.
    await env.start({ policy: REGEX_POLICY });
    expect((await call('/extensions/anomaly/')).status).toBe(403);
    env.config.rbac.update({ 'policy.csv': REGEX_POLICY, 'policy.matchMode': 'regex' });
    await eventually(async () => expect((await call('/extensions/anomaly/')).status).toBe(200));
  });
  afterAll(() => env.stop());

  it('denies the longest names at once while other requests keep flowing', async () => {
    const names = [
      'a'.repeat(LONGEST_NAME),
      // With a b in the name the automaton reads it to the end.
      'a'.repeat(LONGEST_NAME - 2) + 'b_',
    ];
    const start = Date.now();
    const [hostile, normal] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => call(`/extensions/${names[i % 2]}/x`))),
      Promise.all(Array.from({ length: 20 }, () => call('/extensions/anomaly/x'))),
    ]);
    const elapsed = Date.now() - start;
    expect(hostile.map((reply) => reply.status)).toEqual(Array(20).fill(403));
    expect(hostile[0].json.error).toMatch(/^permission denied: extensions, invoke, a+$/);
    expect(normal.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    expect(elapsed).toBeLessThan(GENEROUS_MS);
  });

  it('lets the pattern grant the names it matches', async () => {
    // Allowed by RBAC; then not a configured extension.
    expect((await call('/extensions/aab/x')).status).toBe(404);
    expect((await call('/extensions/xaab/x')).status).toBe(403);
  });

  it('refuses a 10,000-character name before RBAC sees it', async () => {
    const reply = await call(`/extensions/${'a'.repeat(10_000)}/x`);
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('extension name is too long');
  });
});
