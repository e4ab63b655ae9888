import { BUILTIN_POLICY_CSV } from '../../../proxy-server/src/rbac/builtin-policy';
import {
  parsePolicyCsv,
  PolicyLineProblem,
  PolicyRule,
  readCsvRecord,
} from '../../../proxy-server/src/rbac/policy-csv';

describe('parsePolicyCsv', () => {
  // TestValidatePolicy and TestLoadPolicyLine cases, plus Go encoding/csv edge cases.
  it.each([
    [
      'p, role:admin, projects, delete, *, allow',
      ['role:admin', 'projects', 'delete', '*', 'allow'],
    ],
    [
      'p, "role,admin", projects, delete, *, allow',
      ['role,admin', 'projects', 'delete', '*', 'allow'],
    ],
    [
      ' p, role:admin, projects, delete, *, allow ',
      ['role:admin', 'projects', 'delete', '*', 'allow'],
    ],
    [
      'g, your-github-org:your-team, role:org-admin',
      ['your-github-org:your-team', 'role:org-admin'],
    ],
    ['p,a,b,c,d,allow', ['a', 'b', 'c', 'd', 'allow']],
    ['p, a , b, c, d, allow', ['a ', 'b', 'c', 'd', 'allow']],
    ['p, "say ""hi""", b, c, d, allow', ['say "hi"', 'b', 'c', 'd', 'allow']],
    ['p, , b, c, d, allow', ['', 'b', 'c', 'd', 'allow']],
    ['p, a, b, c, d, \u00A0allow\u2003', ['a', 'b', 'c', 'd', 'allow']],
  ])('reads %j', async (line, values) => {
    expect(await parsePolicyCsv(line)).toEqual({
      rules: [{ ptype: line.trim()[0], values }],
      problems: [],
    });
  });

  it.each([
    '',
    '#',
    '# Some comment',
    '   # indented comment',
    '\t\r',
    'r, sub, res, act, obj',
    'e, x',
    'm, x',
  ])('accepts and ignores %j', async (line) => {
    expect(await parsePolicyCsv(line)).toEqual({ rules: [], problems: [] });
  });

  it.each([
    ['p', 'a p line needs 6 fields, got 1'],
    ['p, role:Myrole, applications, *, myproj/* allow', 'a p line needs 6 fields, got 5'],
    ['p, a, b, c, d, allow, extra', 'a p line needs 6 fields, got 7'],
    ['g, alice', 'a g line needs 3 fields, got 2'],
    ['g, alice, role:a, role:b', 'a g line needs 3 fields, got 4'],
    [', role:Myrole, applications, *, myproj/*, allow', 'the line type (first field) is empty'],
    ['this, is, not, a, good, policy', 'unknown line type "this", want p or g'],
    ['this\ttoo', 'unknown line type "this\\ttoo", want p or g'],
    ['Some comment', 'unknown line type "Some comment", want p or g'],
    ['agh, foo, bar', 'unknown line type "agh", want p or g'],
    ['p , a, b, c, d, allow', 'unknown line type "p ", want p or g'],
    ['P, a, b, c, d, allow', 'unknown line type "P", want p or g'],
    ['p2, a, b, c, d, allow', 'unknown line type "p2", want p or g'],
    ['p, "a" , b, c, d, allow', 'extraneous " in a quoted field'],
    ['p, "a, b, c, d, allow', 'missing closing " in a quoted field'],
    ['p, a"b, c, d, e, allow', 'bare " in a non-quoted field'],
  ])('refuses %j', async (line, message) => {
    expect(await parsePolicyCsv(line)).toEqual({ rules: [], problems: [{ line: 1, message }] });
  });

  it('numbers lines from 1, counting blank and comment lines', async () => {
    const csv = '# header\n\np, ok, a, b, c, allow\np, bad\r\ng, x';
    expect((await parsePolicyCsv(csv)).problems).toEqual([
      { line: 4, message: 'a p line needs 6 fields, got 2' },
      { line: 5, message: 'a g line needs 3 fields, got 2' },
    ]);
  });
});

describe('readCsvRecord', () => {
  it('keeps a quoted comma and an empty last field', () => {
    expect(readCsvRecord('a, "b,c",')).toEqual({ fields: ['a', 'b,c', ''] });
  });
});

describe('BUILTIN_POLICY_CSV', () => {
  let rules: PolicyRule[];
  let problems: PolicyLineProblem[];
  beforeAll(async () => {
    ({ rules, problems } = await parsePolicyCsv(BUILTIN_POLICY_CSV));
  });

  it('parses cleanly into the 44 rules of assets/builtin-policy.csv', () => {
    expect(problems).toEqual([]);
    expect(rules).toHaveLength(44);
  });

  it('grants nothing on extensions', () => {
    expect(rules.filter((rule) => rule.ptype === 'p' && rule.values[1] === 'extensions')).toEqual(
      [],
    );
  });

  it('makes admin a role:admin and role:admin a role:readonly', () => {
    expect(rules.filter((rule) => rule.ptype === 'g').map((rule) => rule.values)).toEqual([
      ['role:admin', 'role:readonly'],
      ['admin', 'role:admin'],
    ]);
  });
});
