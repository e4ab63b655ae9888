/**
 * Who is calling, as established by a verified Argo CD session token. This is what the
 * RBAC stage authorizes and what the identity headers tell the backend.
 */
export interface Identity {
  /**
   * The RBAC subject, as Argo CD computes it: for local users the part of `sub` before
   * the colon (`admin` from `admin:login`), for project tokens `proj:<project>:<role>`,
   * for SSO users `federated_claims.user_id`, else `sub`.
   */
  subject: string;
  /** Argocd-Username: local user name; SSO: the email claim, else the user id. */
  username: string;
  /** Argocd-User-Id: the subject without capability suffix. */
  userId: string;
  /** Groups from the `scopes` claims of argocd-rbac-cm (SSO only; empty for local users). */
  groups: string[];
  /** The token's issuer (`argocd` for local sessions). */
  issuer: string;
  /** Expiry, seconds since the epoch; undefined for API keys without `exp`. */
  expiresAt?: number;
}
