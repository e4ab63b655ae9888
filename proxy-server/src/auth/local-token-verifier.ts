import { jwtVerify } from 'jose';
import { AuthenticationError } from '../errors';
import { Identity } from './identity';
import { Claims, getStringClaim, parseLocalSubject } from './token-claims';
import { checkTimeClaims } from './time-claims';
import { toAuthenticationError } from './verification-errors';

/** The `iss` of tokens argocd-server signs itself (util/session SessionManagerClaimsIssuer). */
export const LOCAL_ISSUER = 'argocd';

/**
 * Clock skew tolerated on `nbf` and `iat` of local tokens, in seconds: another argocd-server
 * replica may have signed the token a moment "in the future" of this pod's clock. `exp` is
 * enforced exactly, as Argo CD does (golang-jwt, no leeway). Default: 30.
 */
export const LOCAL_CLOCK_SKEW_SECONDS = 30;

/**
 * Verifies a token signed by argocd-server and maps it to an Identity.
 *
 * SECURITY: HS256 only, keyed with the raw bytes of argocd-secret `server.secretkey`
 * (util/session signClaims). Argo CD's own Parse accepts any HMAC algorithm but only ever
 * signs HS256; accepting nothing else closes algorithm confusion (an RS256 or `none` token
 * claiming `iss: argocd` is rejected before any key is used).
 *
 * Like util/session Parse: `iat` is required, and account tokens need a `jti`. What Parse
 * then checks against Argo CD state (account enabled and capable, token not revoked, API key
 * still listed, password unchanged, project token still in the project) this sidecar cannot
 * see; the application check (pipeline step 5) calls the Argo CD API with the same token,
 * and that enforces all of it.
 */
export async function verifyLocalToken(
  token: string,
  secretKey: Uint8Array,
  nowMs: number,
): Promise<Identity> {
  let claims: Claims;
  try {
    const verified = await jwtVerify(token, secretKey, {
      algorithms: ['HS256'],
      issuer: LOCAL_ISSUER,
      currentDate: new Date(nowMs),
      clockTolerance: LOCAL_CLOCK_SKEW_SECONDS,
      requiredClaims: ['iat'],
    });
    claims = verified.payload;
  } catch (err) {
    throw toAuthenticationError(err);
  }
  checkTimeClaims(claims, nowMs, LOCAL_CLOCK_SKEW_SECONDS);
  return toLocalIdentity(claims);
}

function toLocalIdentity(claims: Claims): Identity {
  const subject = parseLocalSubject(getStringClaim(claims, 'sub'));
  if (!subject) throw new AuthenticationError('token has no valid subject');
  const expiresAt = typeof claims.exp === 'number' ? claims.exp : undefined;
  if (subject.kind === 'project') {
    // The RBAC subject of a project role token is the whole `proj:<project>:<role>`.
    const name = `proj:${subject.project}:${subject.role}`;
    return {
      subject: name,
      username: name,
      userId: name,
      groups: [],
      issuer: LOCAL_ISSUER,
      expiresAt,
    };
  }
  if (getStringClaim(claims, 'jti') === '') {
    throw new AuthenticationError('token has no unique identifier (jti)');
  }
  const { account } = subject;
  return {
    subject: account,
    username: account,
    userId: account,
    groups: [],
    issuer: LOCAL_ISSUER,
    expiresAt,
  };
}
