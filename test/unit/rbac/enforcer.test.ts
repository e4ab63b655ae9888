import { Prng } from '../../../backends/anomaly-detection/src/eval/prng';
import { createEnforcer } from '../../../proxy-server/src/rbac/enforcer';
import { parsePolicyCsv, ParsedPolicy } from '../../../proxy-server/src/rbac/policy-csv';
import { parseRbacConfigMap, RbacConfig } from '../../../proxy-server/src/rbac/rbac-config';
import { createCasbinEnforcer } from '../../helpers/casbin-reference-enforcer';
import { countTurns } from '../../helpers/event-loop';
import { DECISION_CASES } from './decision-cases';

async function parseValid(data: Record<string, string>): Promise<RbacConfig> {
  const { config, problems } = await parseRbacConfigMap(data);
  expect(problems).toEqual([]);
  return config!;
}

describe('createEnforcer', () => {
  it.each(DECISION_CASES)('$name', async ({ data, subject, groups, extension, allowed }) => {
    const enforcer = await createEnforcer(await parseValid(data));
    expect(enforcer.canInvoke({ subject, groups: groups ?? [] }, extension)).toBe(allowed);
  });

  it.each(DECISION_CASES)(
    'casbin with Argo CD model agrees: $name',
    async ({ data, subject, groups, extension, allowed }) => {
      // The reference the generated comparisons below rely on.
      const reference = await createCasbinEnforcer(await parseValid(data));
      expect(reference.canInvoke({ subject, groups: groups ?? [] }, extension)).toBe(allowed);
    },
  );

  it('has 74 decisions in its table, 39 allowed and 35 denied, each named differently', () => {
    expect(DECISION_CASES).toHaveLength(74);
    expect(DECISION_CASES.filter((c) => c.allowed)).toHaveLength(39);
    // A name is what `-t` selects: two cases never share one.
    expect(new Set(DECISION_CASES.map((c) => c.name)).size).toBe(74);
  });

  it('answers synchronously and repeatably', async () => {
    const enforcer = await createEnforcer(
      await parseValid({ 'policy.csv': 'p, alice, extensions, invoke, metrics, allow' }),
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

/** Pieces generated policies are made of: names collide on purpose. */
const USERS = ['alice', 'bob', 'carol', ''];
const ROLES = ['role:a', 'role:b', 'role:c', 'role:d', 'my-org:ops', 'my-org:dev'];
const EXTENSIONS = ['metrics', 'logs', 'cost', 'metrics-v2'];
const GLOB = {
  resources: ['extensions', '*', 'ext*', 'applications', 'extension?', '*s'],
  actions: ['invoke', '*', 'inv*', 'get', '[i]nvoke'],
  objects: ['metrics', 'logs', '*', 'met*', '?ogs', 'cost', '[!m]*', 'metrics-*'],
};
const REGEX = {
  resources: ['extensions', '.*', '^ext', 'applications', 'ext(', '^extensions$'],
  actions: ['invoke', '.*', 'inv', 'get', '[', 'in(v|x)oke'],
  objects: ['metrics', 'logs', '.*', '^met', 'o', 'cost$', '(', 'metrics-v[0-9]'],
};
const EFFECTS = ['allow', 'allow', 'deny', 'Allow', ''];

function generatePolicy(rng: Prng): Record<string, string> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng.next() * items.length)];
  const regex = rng.next() < 0.3;
  const patterns = regex ? REGEX : GLOB;
  const lines: string[] = [];
  const count = 1 + Math.floor(rng.next() * 14);
  for (let i = 0; i < count; i++) {
    if (rng.next() < 0.4) {
      lines.push(`g, ${pick([...USERS, ...ROLES])}, ${pick(ROLES)}`);
    } else {
      const effect = pick(EFFECTS);
      lines.push(
        `p, ${pick([...USERS, ...ROLES])}, ${pick(patterns.resources)}, ` +
          `${pick(patterns.actions)}, ${pick(patterns.objects)}, ${effect === '' ? '""' : effect}`,
      );
    }
  }
  const data: Record<string, string> = { 'policy.csv': lines.join('\n') };
  if (regex) data['policy.matchMode'] = 'regex';
  if (rng.next() < 0.25) data['policy.default'] = pick(ROLES);
  return data;
}

describe('createEnforcer against casbin (generated policies)', () => {
  it("makes the same decision as casbin with Argo CD's model for every caller and extension", async () => {
    const rng = new Prng(20261122);
    let decisions = 0;
    let allowed = 0;
    for (let n = 0; n < 400; n++) {
      const data = generatePolicy(rng);
      const config = await parseValid(data);
      const [indexed, reference] = await Promise.all([
        createEnforcer(config),
        createCasbinEnforcer(config),
      ]);
      for (const subject of USERS) {
        for (const groups of [[], ['my-org:ops'], ['my-org:dev', 'role:b']]) {
          for (const extension of EXTENSIONS) {
            const who = { subject, groups };
            const expected = reference.canInvoke(who, extension);
            if (indexed.canInvoke(who, extension) !== expected) {
              throw new Error(
                `differs from casbin for ${JSON.stringify({ who, extension, expected, data })}`,
              );
            }
            decisions++;
            if (expected) allowed++;
          }
        }
      }
    }
    // The generator must produce both answers often, or the comparison proves little: from
    // this seed, 2,434 allowed and 16,766 denied.
    expect(decisions).toBe(400 * 4 * 3 * 4);
    expect(allowed).toBe(2_434);
  });

  it('follows role links at most 10 deep, as casbin does', async () => {
    const chain = Array.from({ length: 12 }, (_, i) => `g, r${i}, r${i + 1}`);
    for (const depth of [10, 11]) {
      const config = await parseValid({
        'policy.csv': [...chain, `p, r${depth}, extensions, invoke, deep, allow`].join('\n'),
      });
      const who = { subject: 'r0', groups: [] };
      const expected = (await createCasbinEnforcer(config)).canInvoke(who, 'deep');
      expect(expected).toBe(depth <= 10);
      expect((await createEnforcer(config)).canInvoke(who, 'deep')).toBe(expected);
    }
  });
});

/** The policy parsed one line at a time, lines cut by String.split: what a slice must give. */
async function parseLineByLine(csv: string): Promise<ParsedPolicy> {
  const expected: ParsedPolicy = { rules: [], problems: [] };
  const lines = csv.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const { rules, problems } = await parsePolicyCsv(lines[i]);
    expected.rules.push(...rules);
    expected.problems.push(...problems.map((p) => ({ ...p, line: i + 1 })));
  }
  return expected;
}

describe('parseRbacConfigMap on a large policy', () => {
  it('reads every rule, in order, and numbers the lines of problems across slices', async () => {
    const lines = Array.from({ length: 12_345 }, (_, i) =>
      i % 2 ? `p, role:r${i}, extensions, invoke, ext-${i}, allow` : `g, user-${i}, role:r${i + 1}`,
    );
    const good = { 'policy.csv': lines.join('\n'), 'policy.extra.csv': 'g, bob, role:r1' };
    const parsed = await parseRbacConfigMap(good);
    expect(parsed.problems).toEqual([]);
    expect(parsed.config!.rules).toHaveLength(12_346);
    expect(parsed.config!.rules).toEqual([
      ...(await parseLineByLine(good['policy.csv'])).rules,
      ...(await parsePolicyCsv(good['policy.extra.csv'])).rules,
    ]);

    lines[7_001] = 'p, too, few, fields';
    const bad = await parseRbacConfigMap({ 'policy.csv': lines.join('\n') });
    expect(bad).toEqual({ problems: ['policy.csv line 7002: a p line needs 6 fields, got 4'] });
  });

  it('cuts lines as String.split does: empty text, final newline, blank lines, CRLF', async () => {
    for (const csv of [
      '',
      '\n',
      '\n\n',
      'g, bob, role:r1\n',
      'g, bob, role:r1',
      '\r\ng, bob, role:r1\r\n\r\n# c\r\np, bad',
      'g, bob, role:r1\n\n\np, x, extensions',
    ]) {
      expect(await parsePolicyCsv(csv)).toEqual(await parseLineByLine(csv));
    }
  });

  it('lets the event loop turn between slices of a large policy', async () => {
    const csv = Array.from({ length: 20_000 }, (_, i) => `g, user-${i}, role:r`).join('\n');
    const { result, turns } = await countTurns(() => parseRbacConfigMap({ 'policy.csv': csv }));
    expect(result.config!.rules).toHaveLength(20_000);
    // Slices of 500 lines: a turn between each two.
    expect(turns).toBeGreaterThanOrEqual(30);
  });
});
