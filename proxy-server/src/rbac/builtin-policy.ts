/**
 * Argo CD's built-in policy (assets/builtin-policy.csv), which Argo CD always loads before the
 * argocd-rbac-cm policy (server/server.go calls SetBuiltinPolicy). It defines role:readonly and
 * role:admin and makes the local `admin` user a role:admin. It grants nothing on `extensions`:
 * admins must add e.g. `p, role:admin, extensions, invoke, *, allow`.
 *
 * Built from tables rather than kept as a copy; the rules and their order are the same.
 */

/** Project-scoped resources name objects `<project>/<object>`, so they match `*` + `/` + `*`. */
const ALL_IN_ALL_PROJECTS = '*/*';
const ALL = '*';

/** What role:readonly may `get`. */
const READONLY_GETS: ReadonlyArray<readonly [resource: string, object: string]> = [
  ['applications', ALL_IN_ALL_PROJECTS],
  ['applicationsets', ALL_IN_ALL_PROJECTS],
  ['certificates', ALL],
  ['clusters', ALL],
  ['repositories', ALL],
  ['write-repositories', ALL],
  ['projects', ALL],
  ['accounts', ALL],
  ['gpgkeys', ALL],
  ['logs', ALL_IN_ALL_PROJECTS],
];

/** What role:admin may do on top of role:readonly. */
const ADMIN_GRANTS: ReadonlyArray<readonly [resource: string, actions: string[], object: string]> =
  [
    [
      'applications',
      [
        'create',
        'update',
        'update/*',
        'delete',
        'delete/*',
        'sync',
        'rollback',
        'override',
        'action/*',
      ],
      ALL_IN_ALL_PROJECTS,
    ],
    ['applicationsets', ['get', 'create', 'update', 'delete'], ALL_IN_ALL_PROJECTS],
    ['certificates', ['create', 'update', 'delete'], ALL],
    ['clusters', ['create', 'update', 'delete'], ALL],
    ['repositories', ['create', 'update', 'delete'], ALL],
    ['write-repositories', ['create', 'update', 'delete'], ALL],
    ['projects', ['create', 'update', 'delete'], ALL],
    ['accounts', ['update'], ALL],
    ['gpgkeys', ['create', 'delete'], ALL],
    ['exec', ['create'], ALL_IN_ALL_PROJECTS],
  ];

/** Renders the built-in policy as policy CSV, in Argo CD's order. */
function renderBuiltinPolicy(): string {
  const lines = [
    ...READONLY_GETS.map(
      ([resource, object]) => `p, role:readonly, ${resource}, get, ${object}, allow`,
    ),
    ...ADMIN_GRANTS.flatMap(([resource, actions, object]) =>
      actions.map((action) => `p, role:admin, ${resource}, ${action}, ${object}, allow`),
    ),
    'g, role:admin, role:readonly',
    'g, admin, role:admin',
  ];
  return lines.join('\n');
}

/** The built-in policy as policy CSV. */
export const BUILTIN_POLICY_CSV = renderBuiltinPolicy();
