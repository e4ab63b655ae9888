import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'crypto';
import { IncomingHttpHeaders, OutgoingHttpHeaders } from 'http';

/**
 * Requests relayed between sidecar replicas (a replica without a tunnel for a delegate
 * hands the checked request to one that has one) carry a signature: HMAC-SHA256 with a key
 * derived (HKDF) from argocd-secret's server.secretkey, which every replica already mounts,
 * so there is no extra secret to distribute. The signature covers a timestamp, a nonce, the
 * delegate, the target, the method, the path and every forwarded header (the identity
 * headers among them), so a network peer can neither forge nor alter a relayed request;
 * a nonce is accepted once within the time window, so it cannot replay one either.
 */
export const RELAY_PREFIX = 'argocd-extension-proxy-relay-';
const H = {
  delegate: `${RELAY_PREFIX}delegate`,
  target: `${RELAY_PREFIX}target`,
  connectTimeout: `${RELAY_PREFIX}connect-timeout`,
  responseTimeout: `${RELAY_PREFIX}response-timeout`,
  time: `${RELAY_PREFIX}time`,
  nonce: `${RELAY_PREFIX}nonce`,
  signature: `${RELAY_PREFIX}signature`,
} as const;

/** How far a relayed request's timestamp may be from the receiver's clock. */
export const RELAY_WINDOW_MS = 30_000;

export interface RelayedRequest {
  delegate: string;
  /** `http://host:port` or `https://host:port`: the service URL's origin. */
  target: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
}

export function deriveRelayKey(serverSecretKey: Buffer): Buffer {
  return Buffer.from(
    hkdfSync('sha256', serverSecretKey, 'argocd-extension-proxy', 'delegate-relay-v1', 32),
  );
}

/** Adds the relay headers (and signature) to `headers`, the set forwarded to the peer. */
export function signRelay(
  key: Buffer,
  relayed: RelayedRequest,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders,
  now = Date.now(),
): void {
  headers[H.delegate] = relayed.delegate;
  headers[H.target] = relayed.target;
  headers[H.connectTimeout] = String(relayed.connectTimeoutMs);
  headers[H.responseTimeout] = String(relayed.responseTimeoutMs);
  headers[H.time] = String(now);
  headers[H.nonce] = randomBytes(16).toString('hex');
  headers[H.signature] = signature(key, method, path, headers);
}

/** Why a relayed request is refused, or its parameters. */
export type RelayCheck = { ok: true; relayed: RelayedRequest } | { ok: false; reason: string };

/**
 * Checks a relayed request: signature, clock window and nonce (each nonce once). On
 * success the relay headers are removed from `headers`, leaving what goes to the backend.
 */
export function verifyRelay(
  key: Buffer,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  seenNonces: NonceCache,
  now = Date.now(),
): RelayCheck {
  const get = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const given = get(H.signature);
  const time = Number(get(H.time));
  const nonce = get(H.nonce);
  if (!given || !nonce || !Number.isFinite(time)) return { ok: false, reason: 'unsigned' };
  const expected = Buffer.from(signature(key, method, path, headers), 'hex');
  const actual = Buffer.from(given, 'hex');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { ok: false, reason: 'bad signature' };
  }
  if (Math.abs(now - time) > RELAY_WINDOW_MS) return { ok: false, reason: 'expired' };
  if (!seenNonces.add(nonce, now)) return { ok: false, reason: 'replayed' };
  const relayed: RelayedRequest = {
    delegate: get(H.delegate) ?? '',
    target: get(H.target) ?? '',
    connectTimeoutMs: Number(get(H.connectTimeout)),
    responseTimeoutMs: Number(get(H.responseTimeout)),
  };
  for (const name of Object.values(H)) delete headers[name];
  return { ok: true, relayed };
}

/**
 * HMAC over method, path and every header except hop-by-hop ones (which proxies may
 * change) and the signature itself, in a canonical order. Values are compared as the
 * receiving Node parser presents them: repeated headers joined with ", ".
 */
function signature(
  key: Buffer,
  method: string,
  path: string,
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
): string {
  const names = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n !== H.signature && !UNSIGNED.has(n))
    .sort();
  const canonical = names
    .map((name) => {
      const value = headers[name];
      return `${name}:${Array.isArray(value) ? value.join(', ') : String(value ?? '')}`;
    })
    .join('\n');
  const digest = createHash('sha256').update(canonical).digest('hex');
  return createHmac('sha256', key).update(`${method}\n${path}\n${digest}`).digest('hex');
}

/** Framing and hop-by-hop headers: a relay hop may legitimately set or change them. */
const UNSIGNED = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'te',
  'upgrade',
  'proxy-connection',
]);

/** Nonces seen within the window (bounded: the oldest go first when it is full). */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 200_000) {}

  /** False when the nonce was already used. */
  add(nonce: string, now: number): boolean {
    if (this.seen.has(nonce)) return false;
    for (const [old, at] of this.seen) {
      if (now - at <= 2 * RELAY_WINDOW_MS && this.seen.size < this.maxEntries) break;
      this.seen.delete(old);
    }
    this.seen.set(nonce, now);
    return true;
  }
}
