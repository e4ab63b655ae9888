/**
 * Reading claims the way Argo CD does (util/jwt/jwt.go, util/session/sessionmanager.go,
 * server/rbacpolicy/rbacpolicy.go). Only ever applied to claims of a verified token.
 */
export type Claims = Record<string, unknown>;

/** A claim if it is a string, else '' (util/jwt StringField). */
export function getStringClaim(claims: Claims, name: string): string {
  const value = claims[name];
  return typeof value === 'string' ? value : '';
}

/**
 * The user identifier: `federated_claims.user_id` (set by Dex) when it is a non-empty
 * string, else `sub` (util/jwt GetUserIdentifier).
 */
export function getUserIdentifier(claims: Claims): string {
  const federated = claims.federated_claims;
  if (typeof federated === 'object' && federated !== null && !Array.isArray(federated)) {
    const userId = (federated as Claims).user_id;
    if (typeof userId === 'string' && userId !== '') return userId;
  }
  return getStringClaim(claims, 'sub');
}

/**
 * The values of the given claims, in scope order (util/jwt GetScopeValues): a string claim
 * adds itself, a list adds its string items, anything else is ignored.
 *
 * Example: `getScopeValues({ groups: ['a', 1, 'b'], team: 'c' }, ['groups', 'team'])` →
 * `['a', 'b', 'c']`
 */
export function getScopeValues(claims: Claims, scopes: readonly string[]): string[] {
  const values: string[] = [];
  for (const scope of scopes) {
    if (!Object.prototype.hasOwnProperty.call(claims, scope)) continue;
    const value = claims[scope];
    if (typeof value === 'string') values.push(value);
    else if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'string') values.push(item);
    }
  }
  return values;
}

/** What a local (iss `argocd`) token's `sub` stands for. */
export type LocalSubject =
  | { kind: 'account'; account: string; capability: 'login' | 'apiKey' }
  | { kind: 'project'; project: string; role: string };

/**
 * Parses a local token subject.
 * - `proj:<project>:<role>`: a project role token (rbacpolicy GetProjectRoleFromSubject:
 *   exactly three colon-separated parts, the first `proj`);
 * - `<account>:login`, `<account>:apiKey`, or `<account>` alone: an account token; the
 *   account is the part before the first colon and the capability defaults to apiKey
 *   (sessionmanager GetSubjectAccountAndCapability).
 * Returns undefined when the account, project or role would be empty.
 */
export function parseLocalSubject(sub: string): LocalSubject | undefined {
  const parts = sub.split(':');
  if (parts.length === 3 && parts[0] === 'proj') {
    const [, project, role] = parts;
    return project && role ? { kind: 'project', project, role } : undefined;
  }
  const account = parts[0];
  if (!account) return undefined;
  return { kind: 'account', account, capability: parts[1] === 'login' ? 'login' : 'apiKey' };
}
