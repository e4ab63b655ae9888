import { hash } from 'crypto';

/**
 * The key under which a session token's cached answers are stored: its SHA-256, so no cache
 * holds a usable credential. Computed once per request and shared by the token cache and
 * the application-check cache.
 */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64url');
}
