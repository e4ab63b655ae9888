import {
  getScopeValues,
  getUserIdentifier,
  parseLocalSubject,
} from '../../../proxy-server/src/auth/token-claims';

describe('parseLocalSubject', () => {
  it.each([
    ['admin:login', { kind: 'account', account: 'admin', capability: 'login' }],
    ['ci:apiKey', { kind: 'account', account: 'ci', capability: 'apiKey' }],
    ['ci', { kind: 'account', account: 'ci', capability: 'apiKey' }],
    ['ci:unknown', { kind: 'account', account: 'ci', capability: 'apiKey' }],
    ['a:login:extra', { kind: 'account', account: 'a', capability: 'login' }],
    ['proj:team-a:deployer', { kind: 'project', project: 'team-a', role: 'deployer' }],
    ['proj:team-a:deployer:x', { kind: 'account', account: 'proj', capability: 'apiKey' }],
  ])('parses %s like Argo CD', (sub, expected) => {
    expect(parseLocalSubject(sub)).toEqual(expected);
  });

  it.each(['', ':login', 'proj::role', 'proj:team-a:'])('rejects the empty parts of %j', (sub) => {
    expect(parseLocalSubject(sub)).toBeUndefined();
  });
});

describe('getUserIdentifier', () => {
  it.each([
    ['federated_claims.user_id', { sub: 's', federated_claims: { user_id: 'u' } }, 'u'],
    ['sub when user_id is empty', { sub: 's', federated_claims: { user_id: '' } }, 's'],
    ['sub when federated_claims is not an object', { sub: 's', federated_claims: 'u' }, 's'],
    ['sub when user_id is not a string', { sub: 's', federated_claims: { user_id: 7 } }, 's'],
    ['empty without sub', {}, ''],
  ])('uses %s', (_case, claims, expected) => {
    expect(getUserIdentifier(claims)).toBe(expected);
  });
});

describe('getScopeValues', () => {
  it('collects strings and string items of every scope claim, in scope order', () => {
    const claims = { groups: ['a', 1, null, 'b'], team: 'c', other: { x: 'y' } };
    expect(getScopeValues(claims, ['team', 'groups', 'other', 'absent'])).toEqual(['c', 'a', 'b']);
  });

  it('does not read inherited properties', () => {
    expect(getScopeValues({}, ['constructor', 'toString'])).toEqual([]);
  });
});
