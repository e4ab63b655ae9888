import { isDestinationPermitted } from '../../../proxy-server/src/argocd/destination-permission';
import { createEnforcer } from '../../../proxy-server/src/rbac/enforcer';
import { compileGlobPattern } from '../../../proxy-server/src/rbac/glob-pattern';
import { parseRbacConfigMap } from '../../../proxy-server/src/rbac/rbac-config';

/**
 * Argo CD matches globs with gobwas/glob v0.2.3 (util/glob/glob.go Match), whose optimizer
 * answers differently from a pattern's meaning for a few shapes. Where it does, the sidecar
 * takes the stricter side: a deny applies wherever Argo CD may apply it, a grant only where
 * both agree. Expected values are what gobwas v0.2.3 answers:
 * - match/prefix_suffix.go PrefixSuffix.Match: HasPrefix && HasSuffix, so `start*art`
 *   matches "start" (gobwas/glob issue 61);
 * - match/single.go Single.Match: the empty string decodes to no rune and passes, so `?`
 *   matches "";
 * - `{a,}{a,}a` does not match "a" (gobwas/glob issue 62), nor can the sidecar know what gobwas answers
 *   for other empty alternatives.
 */
describe('glob patterns where gobwas/glob v0.2.3 differs from their meaning', () => {
  it.each([
    // pattern, text, meaning, strict (to grant), lenient (to deny)
    ['start*art', 'start', false, false, true],
    ['start*art', 'start-of-art', true, true, true],
    ['start*art', 'stop', false, false, false],
    ['?', '', false, false, true],
    ['?', 'a', true, true, true],
    ['{a,}{a,}a', 'a', true, false, true],
    ['{a,b', 'a', true, false, true],
    ['team-*', 'team-a', true, true, true],
    ['team-*', 'other', false, false, false],
  ])('%s on %j: meaning %s, strict %s, lenient %s', (pattern, text, meaning, strict, lenient) => {
    const glob = compileGlobPattern(pattern)!;
    expect([glob.test(text), glob.strict(text), glob.lenient(text)]).toEqual([
      meaning,
      strict,
      lenient,
    ]);
  });

  const enforcer = async (policy: string) => {
    const { config, problems } = await parseRbacConfigMap({ 'policy.csv': policy });
    expect(problems).toEqual([]);
    return createEnforcer(config!);
  };

  // util/rbac/rbac.go globMatchFunc: the deny line's object matches "start" in Argo CD.
  it('applies a deny line wherever Argo CD may apply it', async () => {
    const rbac = await enforcer(
      'p, bob, extensions, invoke, *, allow\np, bob, extensions, invoke, start*art, deny',
    );
    expect(rbac.canInvoke({ subject: 'bob', groups: [] }, 'start')).toBe(false);
    expect(rbac.canInvoke({ subject: 'bob', groups: [] }, 'other')).toBe(true);
  });

  it('grants only where Argo CD surely grants', async () => {
    const rbac = await enforcer('p, alice, extensions, invoke, "{a,}{a,}a", allow');
    expect(rbac.canInvoke({ subject: 'alice', groups: [] }, 'a')).toBe(false);
  });

  // v1alpha1 (AppProject).isDestinationMatched with gobwas's answer for the `!` pattern.
  it('refuses a destination a `!` pattern excludes in Argo CD', () => {
    const project = {
      metadata: { name: 'p' },
      spec: {
        destinations: [
          { server: '*', namespace: '!argocd*cd' },
          { server: '*', namespace: '*' },
        ],
      },
    };
    const cluster = { server: 'https://kubernetes.default.svc', name: 'in-cluster' };
    const check = (namespace: string) =>
      isDestinationPermitted(project, cluster, namespace, () => []);
    expect(check('argocd')).toEqual({ ok: true, permitted: false });
    expect(check('argocd-in-cd')).toEqual({ ok: true, permitted: false });
    expect(check('guestbook')).toEqual({ ok: true, permitted: true });
  });
});
