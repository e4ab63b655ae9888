import { errors, jwtVerify, JWTVerifyOptions, KeyLike } from 'jose';
import { AuthenticationError } from '../errors';
import { Identity } from './identity';
import { KeySet, KeyStoreOptions, OidcKeyStore } from './oidc-key-store';
import { OidcIssuerConfig } from './sso-settings';
import { checkTimeClaims } from './time-claims';
import { Claims, getScopeValues, getStringClaim, getUserIdentifier } from './token-claims';
import { toAuthenticationError } from './verification-errors';

/**
 * Clock skew tolerated on `nbf` and `iat` of SSO tokens, in seconds: go-oidc's leeway for
 * `nbf`. `exp` is enforced exactly, as go-oidc does. Default: 300.
 */
export const SSO_CLOCK_SKEW_SECONDS = 300;

export interface OidcVerifierOptions extends KeyStoreOptions {
  /** The argocd-rbac-cm `scopes`: claims that carry groups. Example: `['groups']` */
  scopes: readonly string[];
}

/**
 * Verifies ID tokens of one OIDC issuer against the keys its discovery document points to,
 * and maps them to an Identity (util/session VerifyToken, util/oidc Verify).
 *
 * Key rotation: a token signed with a key that is not cached (unknown `kid`, or a signature
 * that fails with the cached key) triggers one refetch of discovery and JWKS, at most once
 * per cooldown (OidcKeyStore). After a refetch only the keys the issuer still publishes are
 * trusted, so a token signed by a key the issuer has withdrawn is rejected from then on;
 * Dex keeps publishing rotated keys while tokens signed with them are valid. A token
 * verified before the rotation stays in the verified-token cache (at most 5 minutes).
 */
export class OidcTokenVerifier {
  private readonly keys: OidcKeyStore;

  constructor(
    readonly config: OidcIssuerConfig,
    private readonly options: OidcVerifierOptions,
  ) {
    this.keys = new OidcKeyStore(config, options);
  }

  /** Verifies signature, issuer, algorithm, times and audience, then maps the claims. */
  async verify(token: string): Promise<Identity> {
    return this.toIdentity(await this.verifyClaims(token));
  }

  /**
   * Verifies signature, issuer, algorithm, times and audience; the verified claims (for
   * checks beyond the Identity, such as whether Argo CD replaces the groups).
   */
  async verifyClaims(token: string): Promise<Claims> {
    const keys = await this.keys.current();
    let claims: Claims;
    try {
      claims = await this.verifyWith(token, keys);
    } catch (err) {
      if (!isKeyMismatch(err)) throw toAuthenticationError(err);
      const refreshed = await this.keys.refreshAfterMismatch(keys);
      if (!refreshed) throw toAuthenticationError(err);
      try {
        claims = await this.verifyWith(token, refreshed);
      } catch (retryErr) {
        throw toAuthenticationError(retryErr);
      }
    }
    checkTimeClaims(claims, this.options.now(), SSO_CLOCK_SKEW_SECONDS);
    this.checkAudience(claims.aud);
    return claims;
  }

  private async verifyWith(token: string, keys: KeySet): Promise<Claims> {
    const options: JWTVerifyOptions = {
      issuer: this.config.issuer,
      // SECURITY: only what the issuer advertises for ID tokens, and only asymmetric
      // algorithms (oidc-discovery ASYMMETRIC_ALGORITHMS): an HS256 token "signed" with
      // the issuer's public key, or an unsigned one, never gets near a key (go-oidc, used
      // by Argo CD util/oidc/provider.go, limits algorithms the same way).
      algorithms: keys.algorithms,
      currentDate: new Date(this.options.now()),
      clockTolerance: SSO_CLOCK_SKEW_SECONDS,
      // go-oidc treats a missing exp as expired.
      requiredClaims: ['exp'],
    };
    try {
      return (await jwtVerify(token, keys.getKey, options)).payload;
    } catch (err) {
      // No `kid` and several keys of the right type: try each (go-oidc does the same).
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
      for await (const key of err as AsyncIterable<KeyLike>) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  /**
   * util/oidc Verify: a token with an `aud` claim must name an allowed audience; a token
   * without one is accepted only with skipAudienceCheckWhenTokenHasNoAudience.
   */
  private checkAudience(aud: unknown): void {
    if (aud === undefined || aud === null) {
      if (!this.config.skipAudienceCheck) throw new AuthenticationError('token has no audience');
      return;
    }
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.some((value) => this.config.audiences.includes(value as string))) {
      throw new AuthenticationError('token audience not allowed');
    }
  }

  /** Maps verified claims to the Identity, groups from the token's `scopes` claims. */
  toIdentity(claims: Claims): Identity {
    const userId = getUserIdentifier(claims);
    if (userId === '') throw new AuthenticationError('token has no subject');
    return {
      subject: userId,
      // util/session Username: the email claim, else the user identifier.
      username: getStringClaim(claims, 'email') || userId,
      userId,
      groups: getScopeValues(claims, this.options.scopes),
      issuer: this.config.issuer,
      expiresAt: claims.exp as number,
    };
  }
}

/** A key the cached set may not have: worth one refetch. */
function isKeyMismatch(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed
  );
}
