/**
 * Decisions for (subject, extensions, invoke, extension), each checked against Argo CD's own
 * code (util/rbac/rbac.go enforce + server/rbacpolicy/rbacpolicy.go EnforceClaims with the
 * built-in policy loaded). `data` is the argocd-rbac-cm as mounted (key -> content).
 */
export interface DecisionCase {
  name: string;
  data: Record<string, string>;
  subject: string;
  groups?: string[];
  extension: string;
  allowed: boolean;
}

const ADMIN_INVOKES_ALL = {
  'policy.csv': 'p, role:admin, extensions, invoke, *, allow\ng, admin, role:admin',
};

const PER_EXTENSION = {
  'policy.csv': [
    'p, role:metrics-viewer, extensions, invoke, metrics, allow',
    'p, bob, extensions, invoke, logs, allow',
    'g, alice, role:metrics-viewer',
    'g, my-org:ops, role:metrics-viewer',
  ].join('\n'),
};

const DENIES = {
  'policy.csv': [
    'p, role:ext-all, extensions, invoke, *, allow',
    'p, role:no-billing, extensions, invoke, billing, deny',
    'p, erin, extensions, invoke, *, allow',
    'p, erin, extensions, invoke, billing, deny',
    'g, frank, role:ext-all',
    'p, frank, extensions, invoke, billing, deny',
    'g, gina, role:ext-all',
    'g, gina, role:no-billing',
    'g, my-org:ops, role:ext-all',
    'p, my-org:ops, extensions, invoke, billing, deny',
    'g, my-org:finance, role:ext-all',
    'p, ivan, extensions, invoke, billing, deny',
  ].join('\n'),
};

const GLOBS = {
  'policy.csv': [
    'p, lee, extensions, invoke, team-*, allow',
    'p, lee, extensions, invoke, tools/*, allow',
    // Braces with a comma must be quoted: the comma would split the CSV field.
    'p, lee, extensions, invoke, "{metrics,logs}", allow',
    'p, lee, extensions, invoke, db-[0-9], allow',
    'p, lee, extensions, invoke, cache-[!x], allow',
    'p, lee, extensions, invoke, v?, allow',
    'p, lee, extensions, invoke, [a-z0-9]x, allow',
    'p, lee, extensions, invoke, esc\\*, allow',
    'p, lee, ext*, inv*, k8s, allow',
    'p, alice, extensions, invoke, "https://github.com/*/*.git", allow',
  ].join('\n'),
};

const REGEXES = {
  'policy.matchMode': 'regex',
  'policy.csv': [
    'p, mia, extensions, invoke, ^team-(a|b)$, allow',
    'p, mia, extensions, invoke, metr, allow',
    'p, nick, extensions, invoke, .*, allow',
    'p, nick, extensions, invoke, [, allow',
    'p, olga, extensions, invoke, (?i)^docs$, allow',
    'p, pete, extensions, invoke, team-*, allow',
    'p, quinn, extensions, invoke, (, allow',
    'p, rita, extensions, invoke, .*, allow',
    'p, role:admin, extensions, invoke, *, allow',
    'p, alice, extensions, invoke, "https://github.com/argo[a-z]{4}/argo-[a-z]+.git", allow',
    'p, sue, extensions, invoke, \\Aa\\.b\\z, allow',
  ].join('\n'),
};

/** `g, w, r1`, `g, r1, r2` ... `g, r<n-1>, r<n>` and a grant on r<n>: n hops from w. */
function renderRoleChain(hops: number): Record<string, string> {
  const lines = Array.from({ length: hops }, (_, i) => `g, ${i === 0 ? 'w' : `r${i}`}, r${i + 1}`);
  return { 'policy.csv': [...lines, `p, r${hops}, extensions, invoke, *, allow`].join('\n') };
}

export const DECISION_CASES: DecisionCase[] = [
  // The built-in policy grants no extensions (assets/builtin-policy.csv).
  {
    name: 'empty configmap: admin',
    data: {},
    subject: 'admin',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'empty configmap: role:admin',
    data: {},
    subject: 'role:admin',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'empty configmap: role:readonly',
    data: {},
    subject: 'role:readonly',
    extension: 'x',
    allowed: false,
  },

  // TestBuiltinPolicyEnforcer: `admin` is role:admin through the built-in `g` line.
  {
    name: 'role:admin grant: admin',
    data: ADMIN_INVOKES_ALL,
    subject: 'admin',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'role:admin grant: alice',
    data: ADMIN_INVOKES_ALL,
    subject: 'alice',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'role:admin grant: group "admin" is a built-in g subject',
    data: ADMIN_INVOKES_ALL,
    subject: 'alice',
    groups: ['admin'],
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'role:admin grant: group "role:admin" is a built-in g subject',
    data: ADMIN_INVOKES_ALL,
    subject: 'alice',
    groups: ['role:admin'],
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'role:readonly grant reaches admin via the built-in role:admin -> role:readonly',
    data: { 'policy.csv': 'p, role:readonly, extensions, invoke, docs, allow' },
    subject: 'admin',
    extension: 'docs',
    allowed: true,
  },

  // Per-extension grants through roles, users and groups.
  {
    name: 'per extension: alice via role',
    data: PER_EXTENSION,
    subject: 'alice',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'per extension: alice other',
    data: PER_EXTENSION,
    subject: 'alice',
    extension: 'logs',
    allowed: false,
  },
  {
    name: 'per extension: bob direct',
    data: PER_EXTENSION,
    subject: 'bob',
    extension: 'logs',
    allowed: true,
  },
  {
    name: 'per extension: bob other',
    data: PER_EXTENSION,
    subject: 'bob',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'per extension: group via role',
    data: PER_EXTENSION,
    subject: 'carol',
    groups: ['my-org:dev', 'my-org:ops'],
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'per extension: other group',
    data: PER_EXTENSION,
    subject: 'carol',
    groups: ['my-org:dev'],
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'per extension: group lacks this extension',
    data: PER_EXTENSION,
    subject: 'carol',
    groups: ['my-org:ops'],
    extension: 'logs',
    allowed: false,
  },
  {
    name: 'extension names are case-sensitive',
    data: PER_EXTENSION,
    subject: 'alice',
    extension: 'Metrics',
    allowed: false,
  },

  // rbacpolicy.go EnforceClaims: groups that start no `g` line are never checked.
  {
    name: 'group with only a p line is ignored',
    data: { 'policy.csv': 'p, my-org:devs, extensions, invoke, *, allow' },
    subject: 'dave',
    groups: ['my-org:devs'],
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'the same name as the subject is checked',
    data: { 'policy.csv': 'p, my-org:devs, extensions, invoke, *, allow' },
    subject: 'my-org:devs',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'group with a p line and any g line is checked',
    data: {
      'policy.csv': 'p, my-org:devs, extensions, invoke, *, allow\ng, my-org:devs, role:none',
    },
    subject: 'dave',
    groups: ['my-org:devs'],
    extension: 'metrics',
    allowed: true,
  },

  // A deny wins only inside one check (one subject with its roles).
  { name: 'deny: erin other', data: DENIES, subject: 'erin', extension: 'metrics', allowed: true },
  // TestEnableDisableEnforce (mike's deny).
  {
    name: 'deny: erin own deny beats own allow',
    data: DENIES,
    subject: 'erin',
    extension: 'billing',
    allowed: false,
  },
  {
    name: 'deny: frank own deny beats role allow',
    data: DENIES,
    subject: 'frank',
    extension: 'billing',
    allowed: false,
  },
  {
    name: 'deny: gina one role denies',
    data: DENIES,
    subject: 'gina',
    extension: 'billing',
    allowed: false,
  },
  {
    name: 'deny: group deny beats the same group role allow',
    data: DENIES,
    subject: 'harry',
    groups: ['my-org:ops'],
    extension: 'billing',
    allowed: false,
  },
  { name: 'deny: ivan alone', data: DENIES, subject: 'ivan', extension: 'billing', allowed: false },
  {
    name: 'deny: user deny does not beat a group allow',
    data: DENIES,
    subject: 'ivan',
    groups: ['my-org:finance'],
    extension: 'billing',
    allowed: true,
  },
  {
    name: 'deny: default role allow wins over the user deny',
    data: { ...DENIES, 'policy.default': 'role:ext-all' },
    subject: 'erin',
    extension: 'billing',
    allowed: true,
  },

  // TestDefaultRole: policy.default is checked first.
  {
    name: 'default role grants everyone',
    data: {
      'policy.default': 'role:readonly',
      'policy.csv': 'p, role:readonly, extensions, invoke, docs, allow',
    },
    subject: 'nobody',
    extension: 'docs',
    allowed: true,
  },
  {
    name: 'default role grants only what it has',
    data: {
      'policy.default': 'role:readonly',
      'policy.csv': 'p, role:readonly, extensions, invoke, docs, allow',
    },
    subject: 'nobody',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'default role deny does not beat the user allow',
    data: {
      'policy.default': 'role:deny-docs',
      'policy.csv':
        'p, role:deny-docs, extensions, invoke, docs, deny\np, kim, extensions, invoke, docs, allow',
    },
    subject: 'kim',
    extension: 'docs',
    allowed: true,
  },
  // rbac.go enforce re-checks the empty subject after the claims check fails.
  {
    name: 'a rule for the empty subject applies to everyone',
    data: { 'policy.csv': 'p, , extensions, invoke, public, allow' },
    subject: 'anyone',
    extension: 'public',
    allowed: true,
  },

  {
    name: 'an empty subject given a role applies to everyone',
    data: { 'policy.csv': 'p, role:admin, extensions, invoke, *, allow\ng, , role:admin' },
    subject: 'anyone',
    extension: 'metrics',
    allowed: true,
  },

  // Project tokens: for `extensions` no AppProject is consulted, only argocd-rbac-cm.
  {
    name: 'project token granted in argocd-rbac-cm',
    data: { 'policy.csv': 'p, proj:team-a:ci, extensions, invoke, metrics, allow' },
    subject: 'proj:team-a:ci',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'other project role',
    data: { 'policy.csv': 'p, proj:team-a:ci, extensions, invoke, metrics, allow' },
    subject: 'proj:team-a:deploy',
    extension: 'metrics',
    allowed: false,
  },

  // Glob (gobwas/glob, no separators).
  { name: 'glob: star', data: GLOBS, subject: 'lee', extension: 'team-a', allowed: true },
  {
    name: 'glob: star crosses /',
    data: GLOBS,
    subject: 'lee',
    extension: 'team-a/b',
    allowed: true,
  },
  {
    name: 'glob: prefix/star crosses /',
    data: GLOBS,
    subject: 'lee',
    extension: 'tools/a/b',
    allowed: true,
  },
  { name: 'glob: braces first', data: GLOBS, subject: 'lee', extension: 'metrics', allowed: true },
  { name: 'glob: braces second', data: GLOBS, subject: 'lee', extension: 'logs', allowed: true },
  { name: 'glob: braces other', data: GLOBS, subject: 'lee', extension: 'traces', allowed: false },
  { name: 'glob: range', data: GLOBS, subject: 'lee', extension: 'db-7', allowed: true },
  { name: 'glob: range miss', data: GLOBS, subject: 'lee', extension: 'db-x', allowed: false },
  { name: 'glob: negated class', data: GLOBS, subject: 'lee', extension: 'cache-a', allowed: true },
  {
    name: 'glob: negated class miss',
    data: GLOBS,
    subject: 'lee',
    extension: 'cache-x',
    allowed: false,
  },
  { name: 'glob: question mark', data: GLOBS, subject: 'lee', extension: 'v2', allowed: true },
  {
    name: 'glob: question mark is one char',
    data: GLOBS,
    subject: 'lee',
    extension: 'v22',
    allowed: false,
  },
  {
    name: 'glob: two ranges do not compile',
    data: GLOBS,
    subject: 'lee',
    extension: 'ax',
    allowed: false,
  },
  { name: 'glob: escaped star', data: GLOBS, subject: 'lee', extension: 'esc*', allowed: true },
  {
    name: 'glob: escaped star is literal',
    data: GLOBS,
    subject: 'lee',
    extension: 'escape',
    allowed: false,
  },
  {
    name: 'glob: resource and action patterns',
    data: GLOBS,
    subject: 'lee',
    extension: 'k8s',
    allowed: true,
  },
  // TestDefaultGlobMatchMode / TestGlobMatchMode, on the extensions resource.
  {
    name: 'glob: quoted URL pattern',
    data: GLOBS,
    subject: 'alice',
    extension: 'https://github.com/argoproj/argo-cd.git',
    allowed: true,
  },
  {
    name: 'glob: quoted URL pattern miss',
    data: GLOBS,
    subject: 'alice',
    extension: 'https://github.com/argo-cd.git',
    allowed: false,
  },

  // Regex (Go regexp.MatchString: unanchored).
  {
    name: 'regex: anchored group',
    data: REGEXES,
    subject: 'mia',
    extension: 'team-a',
    allowed: true,
  },
  {
    name: 'regex: anchored group miss',
    data: REGEXES,
    subject: 'mia',
    extension: 'team-c',
    allowed: false,
  },
  {
    name: 'regex: unanchored',
    data: REGEXES,
    subject: 'mia',
    extension: 'ametrics',
    allowed: true,
  },
  {
    name: 'regex: invalid pattern fails the whole check',
    data: REGEXES,
    subject: 'nick',
    extension: 'x',
    allowed: false,
  },
  { name: 'regex: (?i)', data: REGEXES, subject: 'olga', extension: 'DOCS', allowed: true },
  {
    name: 'regex: star is a repeat, not a glob',
    data: REGEXES,
    subject: 'pete',
    extension: 'teamster',
    allowed: true,
  },
  {
    name: "regex: another subject's invalid line is not reached",
    data: REGEXES,
    subject: 'rita',
    extension: 'x',
    allowed: true,
  },
  {
    name: 'regex: a bare * is invalid',
    data: REGEXES,
    subject: 'admin',
    extension: 'x',
    allowed: false,
  },
  { name: 'regex: \\A and \\z', data: REGEXES, subject: 'sue', extension: 'a.b', allowed: true },
  {
    name: 'regex: \\z is the end',
    data: REGEXES,
    subject: 'sue',
    extension: 'a.bc',
    allowed: false,
  },
  // TestRegexMatchMode.
  {
    name: 'regex: URL pattern',
    data: REGEXES,
    subject: 'alice',
    extension: 'https://github.com/argoproj/argo-cd.git',
    allowed: true,
  },
  {
    name: 'regex: URL pattern miss',
    data: REGEXES,
    subject: 'alice',
    extension: 'https://github.com/argoproj/1argo-cd.git',
    allowed: false,
  },

  // Whitespace, comments, quotes (TestValidatePolicy, TestLoadPolicyLine).
  {
    name: 'comments, blank lines, CRLF and leading spaces',
    data: {
      'policy.csv': '  # team grants\r\n\r\n\t p,   tom,extensions,invoke,  metrics, allow  \r\n',
    },
    subject: 'tom',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'trailing spaces stay in a field',
    data: { 'policy.csv': 'p, sam , extensions, invoke, metrics, allow' },
    subject: 'sam',
    extension: 'metrics',
    allowed: false,
  },
  {
    name: 'quoted field with a comma',
    data: { 'policy.csv': 'p, "u,v", extensions, invoke, metrics, allow' },
    subject: 'u,v',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'an effect other than allow or deny does nothing',
    data: { 'policy.csv': 'p, una, extensions, invoke, metrics, Allow' },
    subject: 'una',
    extension: 'metrics',
    allowed: false,
  },

  // policy.<x>.csv overlays are loaded after policy.csv.
  {
    name: 'overlay grants',
    data: {
      'policy.csv': 'p, role:admin, extensions, invoke, *, allow',
      'policy.team.csv': 'g, vic, role:admin',
    },
    subject: 'vic',
    extension: 'metrics',
    allowed: true,
  },
  {
    name: 'overlay deny for the same subject',
    data: {
      'policy.csv': 'p, role:admin, extensions, invoke, *, allow\ng, vic, role:admin',
      'policy.b.csv': 'p, vic, extensions, invoke, metrics, deny',
    },
    subject: 'vic',
    extension: 'metrics',
    allowed: false,
  },

  // Go's casbin (Argo CD) reads an effect other than allow/deny, even an empty one, as
  // indeterminate: the line grants nothing. (casbin for Node would read "" as allow.)
  {
    name: 'empty effect grants nothing',
    data: { 'policy.csv': 'p, carol, extensions, invoke, logs, ""' },
    subject: 'carol',
    extension: 'logs',
    allowed: false,
  },
  {
    name: 'capitalised effect grants nothing',
    data: { 'policy.csv': 'p, carol, extensions, invoke, logs, Allow' },
    subject: 'carol',
    extension: 'logs',
    allowed: false,
  },

  // casbin's role manager follows at most 10 links (NewRoleManagerImpl(10)).
  {
    name: 'role chain of 10 links',
    data: renderRoleChain(10),
    subject: 'w',
    extension: 'x',
    allowed: true,
  },
  {
    name: 'role chain of 11 links',
    data: renderRoleChain(11),
    subject: 'w',
    extension: 'x',
    allowed: false,
  },
];
