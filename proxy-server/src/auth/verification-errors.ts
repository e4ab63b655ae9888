import { errors } from 'jose';
import { AuthenticationError, ProxyError } from '../errors';

/**
 * Turns a verification failure (mostly jose errors) into an AuthenticationError with a
 * short, client-safe message. The original error is kept as `cause` for the log; jose's
 * messages name claims and algorithms, never key material or the token.
 */
export function toAuthenticationError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  const reason = err instanceof errors.JWTExpired ? 'expired' : 'invalid';
  return new AuthenticationError(describeFailure(err), { cause: err, reason });
}

function describeFailure(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    // Claim names come from jose's fixed set and our own options, never from the token.
    if (err.reason === 'missing') return `token has no ${err.claim} claim`;
    if (err.reason === 'check_failed' && err.claim === 'nbf') return 'token not yet valid';
    if (err.claim === 'iss') return 'unknown token issuer';
    return `invalid token claim ${err.claim}`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid token signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof errors.JOSENotSupported) return 'token algorithm not allowed';
  return 'malformed token';
}
