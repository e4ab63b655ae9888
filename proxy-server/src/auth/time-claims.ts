import { AuthenticationError } from '../errors';
import { Claims } from './token-claims';

/**
 * Checks that jose leaves to us, on a verified token: `exp` exactly (jose's `clockTolerance`
 * also stretches `exp`, but Argo CD and go-oidc both enforce it without leeway), and `iat`
 * not further in the future than the allowed skew. `nbf` is jose's, with the same skew.
 */
export function checkTimeClaims(claims: Claims, nowMs: number, skewSeconds: number): void {
  if (typeof claims.exp === 'number' && nowMs >= claims.exp * 1000) {
    throw new AuthenticationError('token expired', { reason: 'expired' });
  }
  if (typeof claims.iat === 'number' && claims.iat * 1000 > nowMs + skewSeconds * 1000) {
    throw new AuthenticationError('token not yet valid');
  }
}
