import { mergePolicyCsv, parseRbacConfigMap } from '../../../proxy-server/src/rbac/rbac-config';

describe('parseRbacConfigMap', () => {
  it('accepts an empty argocd-rbac-cm with defaults', async () => {
    expect(await parseRbacConfigMap({})).toEqual({
      config: {
        policyCsv: '',
        rules: [],
        policyDefault: '',
        matchMode: 'glob',
        scopes: ['groups'],
      },
      problems: [],
    });
  });

  it('reads every key and ignores unrelated ones', async () => {
    const { config, problems } = await parseRbacConfigMap({
      'policy.csv': 'p, role:admin, extensions, invoke, *, allow',
      'policy.default': 'role:readonly',
      'policy.matchMode': 'regex',
      scopes: '[groups, email]',
      'other.key': 'ignored',
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      policyCsv: 'p, role:admin, extensions, invoke, *, allow',
      rules: [{ ptype: 'p', values: ['role:admin', 'extensions', 'invoke', '*', 'allow'] }],
      policyDefault: 'role:readonly',
      matchMode: 'regex',
      scopes: ['groups', 'email'],
    });
  });

  it.each([
    [{ 'policy.csv': 'p, a, b, c, allow' }, ['policy.csv line 1: a p line needs 6 fields, got 5']],
    [
      { 'policy.csv': 'p, a, b, c, d, allow\n\ng, x' },
      ['policy.csv line 3: a g line needs 3 fields, got 2'],
    ],
    [
      { 'policy.team.csv': '# ok\nx, y' },
      ['policy.team.csv line 2: unknown line type "x", want p or g'],
    ],
    [
      { 'policy.b.csv': 'g, x', 'policy.csv': 'p', 'policy.a.csv': 'p, "a' },
      [
        'policy.csv line 1: a p line needs 6 fields, got 1',
        'policy.a.csv line 1: missing closing " in a quoted field',
        'policy.b.csv line 1: a g line needs 3 fields, got 2',
      ],
    ],
    [{ 'policy.matchMode': 'x' }, ['policy.matchMode: must be glob or regex, got "x"']],
    [{ 'policy.matchMode': 'Regex' }, ['policy.matchMode: must be glob or regex, got "Regex"']],
    [
      { 'policy.matchMode': 'regex\n' },
      ['policy.matchMode: must be glob or regex, got "regex\\n"'],
    ],
    [{ scopes: 'groups' }, ['scopes: must be a YAML list of strings']],
    [{ scopes: '{a: b}' }, ['scopes: must be a YAML list of strings']],
    [{ scopes: '[groups, [nested]]' }, ['scopes: must be a YAML list of strings']],
    [
      { 'policy.csv': 'g', 'policy.matchMode': 'glob2', scopes: 'x' },
      [
        'policy.csv line 1: a g line needs 3 fields, got 1',
        'policy.matchMode: must be glob or regex, got "glob2"',
        'scopes: must be a YAML list of strings',
      ],
    ],
  ])('reports %j', async (data, problems) => {
    expect(await parseRbacConfigMap(data)).toEqual({ problems });
  });

  it('reports invalid scopes YAML', async () => {
    const { config, problems } = await parseRbacConfigMap({ scopes: '[groups' });
    expect(config).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^scopes: invalid YAML: \S/);
    expect(problems[0]).not.toContain('\n');
  });

  // server/server.go: "" -> default; yaml.v2 gives nil for null (default) and leaves the
  // empty list for an empty document.
  it.each([
    ['', ['groups']],
    ['null', ['groups']],
    ['~', ['groups']],
    ['  ', []],
    ['# no groups', []],
    ['[]', []],
    ['- groups\n- cognito:groups', ['groups', 'cognito:groups']],
    ['[1, true, 1.0, ~]', ['1', 'true', '1.0', '']],
  ])('reads scopes %j', async (scopes, expected) => {
    expect((await parseRbacConfigMap({ scopes })).config?.scopes).toEqual(expected);
  });

  it.each([
    ['', 'glob'],
    ['glob', 'glob'],
    ['regex', 'regex'],
  ] as const)('reads policy.matchMode %j', async (matchMode, expected) => {
    const { config } = await parseRbacConfigMap({ 'policy.matchMode': matchMode });
    expect(config?.matchMode).toBe(expected);
  });

  it('keeps policy.default as is, like Argo CD', async () => {
    const { config } = await parseRbacConfigMap({ 'policy.default': ' role:x\n' });
    expect(config?.policyDefault).toBe(' role:x\n');
  });
});

describe('mergePolicyCsv', () => {
  // TestPolicyCSV ("will return composed policy in a deterministic order").
  it('puts policy.csv first, then overlays in sorted key order', () => {
    const data = {
      UnrelatedKey: 'unrelated value',
      'policy.B.csv': 'policyb',
      'policy.A.csv': 'policya',
      'policy.C.csv': 'policyc',
      'policy.csv': 'policy1',
    };
    expect(mergePolicyCsv(data)).toBe('policy1\npolicya\npolicyb\npolicyc');
  });

  it('sorts by byte order, upper case first', () => {
    expect(mergePolicyCsv({ 'policy.b.csv': 'b', 'policy.B.csv': 'B', 'policy.a.csv': 'a' })).toBe(
      '\nB\na\nb',
    );
  });

  // TestPolicyCSV ("will return empty string if data has no csv entries").
  it('returns an empty string without policy keys', () => {
    expect(mergePolicyCsv({ 'policy.default': 'role:readonly', 'policy.csvx': 'x' })).toBe('');
  });
});
