import { performance } from 'perf_hooks';
import { createEnforcer } from '../../../proxy-server/src/rbac/enforcer';
import { createMatchFunction } from '../../../proxy-server/src/rbac/match-function';
import { parseRbacConfigMap, RbacConfig } from '../../../proxy-server/src/rbac/rbac-config';

/**
 * `policy.matchMode: regex` must match like Go's linear-time regexp (RE2): the text is the
 * extension name from the request path, so the caller picks it. A backtracking engine (JS
 * RegExp) takes about 2^n steps for `^(a+)+b$` on n a's: about a second at 28 characters,
 * and a 10,000-character name never finishes, blocking the event loop for good.
 */
const NESTED = '^(a+)+b$';
const HOSTILE = 'a'.repeat(10_000);

/**
 * Far above the few milliseconds a linear match of 10,000 characters takes, even on a slow,
 * busy machine; it only tells linear from exponential (which does not return at all).
 */
const GENEROUS_MS = 2000;

function timed<T>(work: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = work();
  return { result, ms: performance.now() - start };
}

async function parseValid(data: Record<string, string>): Promise<RbacConfig> {
  const { config, problems } = await parseRbacConfigMap(data);
  expect(problems).toEqual([]);
  return config!;
}

describe("regex mode matches in linear time, like Go's regexp", () => {
  it('answers ^(a+)+b$ on a 10,000-character name', () => {
    const match = createMatchFunction('regex');
    const { result, ms } = timed(() => [
      match(HOSTILE, NESTED),
      // With a b in the text, the automaton runs to the end (no literal shortcut).
      match(HOSTILE + 'b!', NESTED),
      match(HOSTILE + 'b', NESTED),
    ]);
    expect(result).toEqual([false, false, true]);
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('answers other nested or overlapping repeats on a 10,000-character name', () => {
    const match = createMatchFunction('regex');
    const patterns = ['(a|aa)+$b', '(a*)*b', '(.*a){20}b', '^(a|a?)+$x', '(?i)(\\w+\\s?)*!$'];
    const { result, ms } = timed(() => patterns.map((pattern) => match(HOSTILE, pattern)));
    expect(result).toEqual([false, false, false, false, false]);
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('denies a 10,000-character name through the enforcer and allows a matching one', async () => {
    const enforcer = await createEnforcer(
      await parseValid({
        'policy.csv': [
          'p, alice, extensions, invoke, ^(a+)+b$, allow',
          'p, alice, extensions, invoke, ^metrics$, allow',
        ].join('\n'),
        'policy.matchMode': 'regex',
      }),
    );
    const alice = { subject: 'alice', groups: [] };
    const { result, ms } = timed(() => [
      enforcer.canInvoke(alice, HOSTILE),
      enforcer.canInvoke(alice, HOSTILE + 'b!'),
      enforcer.canInvoke(alice, 'aab'),
      enforcer.canInvoke(alice, 'xaab'),
      enforcer.canInvoke(alice, 'metrics'),
      enforcer.canInvoke({ subject: 'bob', groups: [] }, 'aab'),
    ]);
    expect(result).toEqual([false, false, true, false, true, false]);
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('keeps other checks flowing between hostile ones', async () => {
    const enforcer = await createEnforcer(
      await parseValid({
        'policy.csv': 'p, alice, extensions, invoke, ^(a+)+b$, allow',
        'policy.matchMode': 'regex',
      }),
    );
    const alice = { subject: 'alice', groups: [] };
    // As the server runs them: each request's check in its own turn of the event loop.
    const inTurn = <T>(work: () => T) =>
      new Promise<T>((resolve) => setImmediate(() => resolve(work())));
    const start = performance.now();
    const [denied, allowed] = await Promise.all([
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          inTurn(() => enforcer.canInvoke(alice, HOSTILE + 'a'.repeat(i) + 'b!')),
        ),
      ),
      Promise.all(Array.from({ length: 20 }, () => inTurn(() => enforcer.canInvoke(alice, 'aab')))),
    ]);
    expect(denied).toEqual(Array(20).fill(false));
    expect(allowed).toEqual(Array(20).fill(true));
    expect(performance.now() - start).toBeLessThan(GENEROUS_MS);
  });
});

/**
 * `policy.matchMode: glob` (the default) too: gobwas/glob matches in linear time, and so
 * must the sidecar. A `*` compiled to a backtracking `.*` took 11 s for `*a*a*a*a*b` on a
 * 253-character name (the longest the path parser lets through).
 */
describe('glob mode matches in linear time, like gobwas/glob', () => {
  it('answers many stars against a 10,000-character name', () => {
    const match = createMatchFunction('glob');
    const patterns = ['*a*a*a*a*b', '*a*a*a*a*a*a*b', '*a*?*a*?*a*[b]', '{*a,*a*}*a*b'];
    const { result, ms } = timed(() => patterns.map((pattern) => match(HOSTILE, pattern)));
    expect(result).toEqual([false, false, false, false]);
    expect(match(HOSTILE + 'b', '*a*a*a*a*b')).toBe(true);
    expect(ms).toBeLessThan(GENEROUS_MS);
  });
});
