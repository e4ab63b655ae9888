import { withDecisionCache } from '../../../proxy-server/src/rbac/decision-cache';
import { Enforcer, RbacSubject } from '../../../proxy-server/src/rbac/enforcer';

describe('withDecisionCache', () => {
  function countingEnforcer(allowed: Set<string>) {
    const calls: string[] = [];
    const enforcer: Enforcer = {
      canInvoke(who, extension) {
        calls.push(`${who.subject}/${extension}`);
        return allowed.has(`${who.subject}/${extension}`);
      },
    };
    return { enforcer, calls };
  }

  it('asks the policy once per caller and extension, and keeps each answer', () => {
    const { enforcer, calls } = countingEnforcer(new Set(['alice/anomaly']));
    const cached = withDecisionCache(enforcer, () => true);
    const alice: RbacSubject = { subject: 'alice', groups: [] };
    expect(cached.canInvoke(alice, 'anomaly')).toBe(true);
    expect(cached.canInvoke(alice, 'anomaly')).toBe(true);
    expect(cached.canInvoke(alice, 'cost')).toBe(false);
    expect(cached.canInvoke(alice, 'cost')).toBe(false);
    expect(calls).toEqual(['alice/anomaly', 'alice/cost']);
  });

  it('keeps callers apart, even with the same subject (other token, other groups)', () => {
    const { enforcer, calls } = countingEnforcer(new Set());
    const cached = withDecisionCache(enforcer, () => true);
    cached.canInvoke({ subject: 'bob', groups: ['a'] }, 'x');
    cached.canInvoke({ subject: 'bob', groups: ['b'] }, 'x');
    expect(calls).toEqual(['bob/x', 'bob/x']);
  });

  it('stops remembering new names for a caller past its bound, but still answers', () => {
    const { enforcer, calls } = countingEnforcer(new Set(['carol/n300']));
    const cached = withDecisionCache(enforcer, () => true);
    const carol: RbacSubject = { subject: 'carol', groups: [] };
    for (let i = 0; i < 300; i++) cached.canInvoke(carol, `n${i}`);
    expect(cached.canInvoke(carol, 'n300')).toBe(true);
    expect(cached.canInvoke(carol, 'n300')).toBe(true);
    expect(calls.filter((c) => c === 'carol/n300')).toHaveLength(2);
  });

  it('does not remember names that are not configured extensions', () => {
    const { enforcer, calls } = countingEnforcer(new Set());
    const cached = withDecisionCache(enforcer, (name) => name === 'anomaly');
    const dan: RbacSubject = { subject: 'dan', groups: [] };
    cached.canInvoke(dan, 'random-name');
    cached.canInvoke(dan, 'random-name');
    cached.canInvoke(dan, 'anomaly');
    cached.canInvoke(dan, 'anomaly');
    expect(calls).toEqual(['dan/random-name', 'dan/random-name', 'dan/anomaly']);
  });
});
