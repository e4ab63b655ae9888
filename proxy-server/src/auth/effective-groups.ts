/**
 * The groups Argo CD itself uses for an SSO session, when they are not the ID token's.
 *
 * With oidc.config `enableUserInfoGroups` (and `userInfoPath`), or the Azure groups overage
 * (`azure.enableUserGroupOverageClaim`), Argo CD replaces the token's `groups` claim with
 * the identity provider's answer before RBAC (util/oidc/oidc.go SetGroupsClaimFromEndpoint,
 * called from server/server.go getClaims). The sidecar cannot ask the provider the way
 * Argo CD does (that needs the access token Argo CD keeps in its Redis), so it asks Argo CD:
 * `GET /api/v1/session/userinfo` with the caller's token answers the groups of the
 * replaced claims (server/session/session.go GetUserInfo).
 */
import { AuthenticationError, ServiceUnavailableError } from '../errors';
import { GroupsReplacement } from './sso-settings';
import { Claims } from './token-claims';

/**
 * How long Argo CD's answer about a session's groups is reused, in ms; never past the
 * token's `exp` (the verified-token cache holds it). Argo CD derives the groups on every
 * request it serves, so this bounds how far the sidecar lags behind Argo CD: a group Argo CD
 * no longer gives a user stops granting `extensions, invoke` here within a minute, the same
 * bound as the application check (MAX_APPLICATION_CACHE_TTL_MS). Argo CD itself keeps the
 * provider's answer in Redis (util/oidc GetUserInfo: until the ID token expires, unless the
 * answer has an earlier `exp`); the sidecar does not lag behind that, it only adds this
 * minute at most.
 */
export const EFFECTIVE_GROUPS_MAX_AGE_MS = 60_000;

/** Where Argo CD answers who a session is (server/session/session.go GetUserInfo). */
export const USERINFO_PATH = '/api/v1/session/userinfo';

/**
 * The Argo CD API connection the application check uses (argocd/argocd-api.ts ArgoCDApi:
 * its TLS policy, timeout, kept-alive connections and stale-connection retry).
 */
export interface ArgoCDSessionApi {
  /**
   * GET `path` with `Authorization: Bearer <token>`: the status and body. Rejects when
   * Argo CD cannot be asked (network error, timeout).
   */
  get(path: string, token: string): Promise<{ status: number; body: string }>;
}

/**
 * Whether Argo CD replaces the `groups` of this verified SSO token (util/oidc
 * SetGroupsClaimFromEndpoint): always with userinfo groups; with the Azure overage only when
 * the token says its groups did not fit (hasAzureGroupsClaimOverflow). Tokens of an issuer
 * without replacement (Dex, plain oidc.config) keep their own claims.
 */
export function argoCDReplacesGroups(
  replacement: GroupsReplacement | undefined,
  claims: Claims,
): boolean {
  if (replacement === 'userinfo') return true;
  if (replacement === 'azure-overage') return hasAzureGroupsClaimOverflow(claims);
  return false;
}

/**
 * util/oidc/oidc_azure.go hasAzureGroupsClaimOverflow: both `_claim_names` and
 * `_claim_sources` are present and not null, and `_claim_names` is an object with a
 * `groups` key (Entra ID's "groups overage" distributed claim).
 */
function hasAzureGroupsClaimOverflow(claims: Claims): boolean {
  const sources = claims._claim_sources;
  const names = claims._claim_names;
  if (sources === undefined || sources === null || names === undefined || names === null) {
    return false;
  }
  if (typeof names !== 'object' || Array.isArray(names)) return false;
  return Object.prototype.hasOwnProperty.call(names, 'groups');
}

/**
 * Asks Argo CD for the session's effective groups. Argo CD answers 200 whatever the session
 * (GetUserInfo runs with authentication errors ignored), and on a failed authentication or
 * a failed group lookup still shows the token's own groups, without `loggedIn`. So the
 * groups are used only when `loggedIn` is true, and nothing falls back to the token's:
 * - `loggedIn` not true → 401 (Argo CD refuses the session, e.g. the provider's userinfo
 *   failed or the session was logged out);
 * - Argo CD unreachable, a timeout, a status other than 200, an unreadable body → 503.
 *
 * The `groups` field is already the values of argocd-rbac-cm `scopes` claims (GetUserInfo
 * calls sessionmgr.Groups with the enforcer's scopes) after the replacement: exactly the
 * values Argo CD's RBAC checks (rbacpolicy EnforceClaims), so they are used as they are.
 */
export async function fetchEffectiveGroups(
  api: ArgoCDSessionApi | undefined,
  token: string,
): Promise<string[]> {
  if (!api) {
    throw new ServiceUnavailableError(
      "cannot ask Argo CD for the session's groups (no Argo CD API client)",
    );
  }
  let response: { status: number; body: string };
  try {
    response = await api.get(USERINFO_PATH, token);
  } catch (err) {
    throw new ServiceUnavailableError(
      "Argo CD API is unreachable; cannot check the session's groups; try again shortly",
      { cause: err },
    );
  }
  if (response.status !== 200) {
    throw new ServiceUnavailableError(
      `Argo CD API answered ${response.status} when asked for the session's groups; try again shortly`,
    );
  }
  const info = parseUserInfo(response.body);
  if (!info) {
    throw new ServiceUnavailableError(
      'Argo CD API returned an unreadable answer about the session',
    );
  }
  if (!info.loggedIn) throw new AuthenticationError('Argo CD rejected the session; log in again');
  return info.groups;
}

/**
 * session.proto GetUserInfoResponse as grpc-gateway writes it: false and empty fields are
 * left out (`{}` for no session), `groups` is a list of strings.
 */
function parseUserInfo(body: string): { loggedIn: boolean; groups: string[] } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const { loggedIn, groups } = doc as { loggedIn?: unknown; groups?: unknown };
  if (loggedIn !== undefined && typeof loggedIn !== 'boolean') return undefined;
  if (groups === undefined || groups === null) return { loggedIn: loggedIn === true, groups: [] };
  if (!Array.isArray(groups) || groups.some((group) => typeof group !== 'string')) {
    return undefined;
  }
  return { loggedIn: loggedIn === true, groups: groups as string[] };
}
