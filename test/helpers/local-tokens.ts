import { createHmac, randomUUID } from 'crypto';

/** Test signing key for argocd-secret `server.secretkey`. */
export const TEST_SERVER_SECRET = 'test-server-secretkey-7f3a9c2e1b';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * Signs a local Argo CD session token the way argocd-server's session manager does:
 * HS256 with the raw bytes of server.secretkey, iss "argocd", sub "<user>:login".
 */
export function signLocalToken(
  claims: Record<string, unknown>,
  options: { secret?: string | Buffer; header?: Record<string, unknown> } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: 'argocd',
    iat: now,
    nbf: now,
    exp: now + 3600,
    jti: randomUUID(),
    ...claims,
  };
  const header = options.header ?? { alg: 'HS256', typ: 'JWT' };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createHmac('sha256', options.secret ?? TEST_SERVER_SECRET)
    .update(input)
    .digest();
  return `${input}.${base64url(signature)}`;
}

/** A valid session token of local user `user`. */
export function localSession(user: string, extra: Record<string, unknown> = {}): string {
  return signLocalToken({ sub: `${user}:login`, ...extra });
}
