import { createEnforcer } from '../../../proxy-server/src/rbac/enforcer';
import { parseRbacConfigMap, RbacConfig } from '../../../proxy-server/src/rbac/rbac-config';
import { DECISION_CASES } from './decision-cases';

function parseValid(data: Record<string, string>): RbacConfig {
  const { config, problems } = parseRbacConfigMap(data);
  expect(problems).toEqual([]);
  return config!;
}

describe('createEnforcer', () => {
  it.each(DECISION_CASES)('$name', async ({ data, subject, groups, extension, allowed }) => {
    const enforcer = await createEnforcer(parseValid(data));
    expect(enforcer.canInvoke({ subject, groups: groups ?? [] }, extension)).toBe(allowed);
  });

  it('has at least 40 decisions in its table', () => {
    expect(DECISION_CASES.length).toBeGreaterThanOrEqual(40);
  });

  it('answers synchronously and repeatably', async () => {
    const enforcer = await createEnforcer(
      parseValid({ 'policy.csv': 'p, alice, extensions, invoke, metrics, allow' }),
    );
    const who = { subject: 'alice', groups: [] };
    const first = enforcer.canInvoke(who, 'metrics');
    expect(typeof first).toBe('boolean');
    expect([first, enforcer.canInvoke(who, 'metrics'), enforcer.canInvoke(who, 'logs')]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('refuses a policy that was not validated', async () => {
    const config: RbacConfig = {
      policyCsv: 'p, alice, extensions, invoke, metrics',
      policyDefault: '',
      matchMode: 'glob',
      scopes: ['groups'],
    };
    await expect(createEnforcer(config)).rejects.toThrow(
      'policy.csv is invalid: line 1: a p line needs 6 fields, got 5',
    );
  });
});
