import { IncomingHttpHeaders, OutgoingHttpHeaders } from 'http';
import {
  deriveRelayKey,
  NonceCache,
  RELAY_WINDOW_MS,
  signRelay,
  verifyRelay,
} from '../../../../proxy-server/src/delegate/sidecar/relay-signature';

const key = deriveRelayKey(Buffer.from('server-secret'));
const relayed = {
  delegate: 'onprem',
  target: 'http://prom:9090',
  connectTimeoutMs: 2000,
  responseTimeoutMs: 60000,
};

function signed(now = 1_000_000): IncomingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'argocd-username': 'alice', 'argocd-user-groups': 'a,b' };
  signRelay(key, relayed, 'GET', '/api/x', headers, now);
  return headers as IncomingHttpHeaders;
}

describe('relay signatures', () => {
  it('accepts its own signature once, and strips the relay headers', () => {
    const headers = signed();
    const result = verifyRelay(key, 'GET', '/api/x', headers, new NonceCache(), 1_000_500);
    expect(result).toEqual({ ok: true, relayed });
    expect(headers).toEqual({ 'argocd-username': 'alice', 'argocd-user-groups': 'a,b' });
  });

  it('refuses any change to method, path, identity headers, target or delegate', () => {
    const cases: Array<[string, (h: IncomingHttpHeaders) => [string, string]]> = [
      ['method', () => ['POST', '/api/x']],
      ['path', () => ['GET', '/api/y']],
      ['identity', (h) => ((h['argocd-username'] = 'mallory'), ['GET', '/api/x'])],
      ['added header', (h) => ((h['argocd-user-groups-extra'] = 'x'), ['GET', '/api/x'])],
      [
        'target',
        (h) => ((h['argocd-extension-proxy-relay-target'] = 'http://evil:1'), ['GET', '/api/x']),
      ],
      [
        'delegate',
        (h) => ((h['argocd-extension-proxy-relay-delegate'] = 'other'), ['GET', '/api/x']),
      ],
    ];
    for (const [, tamper] of cases) {
      const headers = signed();
      const [method, path] = tamper(headers);
      const result = verifyRelay(key, method, path, headers, new NonceCache(), 1_000_000);
      expect(result).toEqual({ ok: false, reason: 'bad signature' });
    }
  });

  it('refuses replays, stale timestamps, other keys and unsigned requests', () => {
    const nonces = new NonceCache();
    const headers = signed();
    expect(verifyRelay(key, 'GET', '/api/x', { ...headers }, nonces, 1_000_000).ok).toBe(true);
    expect(verifyRelay(key, 'GET', '/api/x', { ...headers }, nonces, 1_000_000)).toEqual({
      ok: false,
      reason: 'replayed',
    });
    expect(
      verifyRelay(
        key,
        'GET',
        '/api/x',
        signed(),
        new NonceCache(),
        1_000_000 + RELAY_WINDOW_MS + 1,
      ),
    ).toEqual({ ok: false, reason: 'expired' });
    const other = deriveRelayKey(Buffer.from('another-secret'));
    expect(verifyRelay(other, 'GET', '/api/x', signed(), new NonceCache(), 1_000_000)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(verifyRelay(key, 'GET', '/api/x', {}, new NonceCache(), 1_000_000)).toEqual({
      ok: false,
      reason: 'unsigned',
    });
  });

  it('keeps the nonce cache bounded', () => {
    const nonces = new NonceCache(100);
    for (let i = 0; i < 1000; i++) expect(nonces.add(`n${i}`, 5)).toBe(true);
    expect((nonces as unknown as { seen: Map<string, number> }).seen.size).toBeLessThanOrEqual(100);
    expect(nonces.add('n999', 5)).toBe(false);
  });
});
