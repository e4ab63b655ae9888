/**
 * Every header name the proxy treats specially, in one place. Names and meanings follow
 * Argo CD's server/extension/extension.go, so backends written for Argo CD's built-in
 * proxy work unchanged.
 */

/** `<namespace>:<app-name>` of the application the request is about; required inbound, re-set outbound. */
export const HEADER_APPLICATION_NAME = 'argocd-application-name';
/** The application's project; required inbound, re-set outbound. */
export const HEADER_PROJECT_NAME = 'argocd-project-name';
/** The namespace Argo CD's control plane runs in (not the application's). */
export const HEADER_NAMESPACE = 'argocd-namespace';
/** `spec.destination.name` of the application, when set. */
export const HEADER_TARGET_CLUSTER_NAME = 'argocd-target-cluster-name';
/** `spec.destination.server` of the application, when set. */
export const HEADER_TARGET_CLUSTER_URL = 'argocd-target-cluster-url';
/** Local user name, or the SSO user's email (else user id). */
export const HEADER_USERNAME = 'argocd-username';
/** The user id: local user name, or the SSO subject. */
export const HEADER_USER_ID = 'argocd-user-id';
/** Comma-joined groups from the SSO token's `scopes` claims. */
export const HEADER_USER_GROUPS = 'argocd-user-groups';

/** Every inbound header with this prefix is dropped before the identity headers are set. */
export const ARGOCD_HEADER_PREFIX = 'argocd-';

/**
 * Hop-by-hop headers (RFC 9110 section 7.6.1) plus the legacy ones Node and Go also drop.
 * They describe one connection and are never forwarded.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Inbound headers that carry the caller's credentials or claims about the client. The
 * sidecar consumes or re-derives them; the backend never sees the inbound values.
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['cookie', 'authorization']);

/** Set by the proxy from the connection (Argo CD's ReverseProxy SetXForwarded does the same). */
export const FORWARDED_HEADERS: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
]);

/** Names a configured service header may not use: the proxy alone sets these. */
export function isReservedHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    lower.startsWith(ARGOCD_HEADER_PREFIX) ||
    HOP_BY_HOP_HEADERS.has(lower) ||
    FORWARDED_HEADERS.has(lower) ||
    lower === 'host' ||
    lower === 'content-length'
  );
}
