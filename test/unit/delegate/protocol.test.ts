import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { proxyFor } from '../../../proxy-server/src/delegate/https-proxy';
import {
  isAllowed,
  isConnectionSpecific,
  parseAllowedHost,
  parseTarget,
  sameSecret,
} from '../../../proxy-server/src/delegate/protocol';
import { SecretHeaders } from '../../../proxy-server/src/delegate/secret-headers';

describe('delegate allowlist', () => {
  it('parses HOST, HOST:PORT and [v6]:PORT, lowercased; refuses anything else', () => {
    expect(parseAllowedHost('Prometheus.Monitoring.svc:9090')).toEqual({
      host: 'prometheus.monitoring.svc',
      port: 9090,
    });
    expect(parseAllowedHost('incidents.internal')).toEqual({
      host: 'incidents.internal',
      port: undefined,
    });
    expect(parseAllowedHost('[fd00::1]:443')).toEqual({ host: 'fd00::1', port: 443 });
    for (const bad of ['', 'http://x', 'x:0', 'x:70000', '*.internal', 'a b', 'x/y', 'user@x']) {
      expect(parseAllowedHost(bad)).toBeUndefined();
    }
  });

  it('allows exactly the listed hosts (any port when none is given)', () => {
    const allow = [parseAllowedHost('prom:9090')!, parseAllowedHost('incidents')!];
    expect(isAllowed(allow, 'prom', 9090)).toBe(true);
    expect(isAllowed(allow, 'prom', 9091)).toBe(false);
    expect(isAllowed(allow, 'incidents', 8443)).toBe(true);
    expect(isAllowed(allow, 'prom.evil', 9090)).toBe(false);
    expect(isAllowed(allow, 'evil-prom', 9090)).toBe(false);
  });

  it('reads a stream target only from a plain scheme and authority', () => {
    expect(parseTarget('http', 'prom:9090')).toEqual({
      scheme: 'http',
      host: 'prom',
      port: 9090,
      authority: 'prom:9090',
    });
    expect(parseTarget('https', 'Incidents')).toMatchObject({ host: 'incidents', port: 443 });
    expect(parseTarget('http', '[::1]:8080')).toMatchObject({ host: '::1', port: 8080 });
    // SECURITY: user info, paths, other schemes and empty hosts are not targets.
    for (const [scheme, authority] of [
      ['http', 'allowed@evil'],
      ['http', 'evil/allowed'],
      ['http', 'evil?allowed'],
      ['file', 'x'],
      ['http', ''],
      ['http', ':80'],
      ['http', undefined],
    ]) {
      expect(parseTarget(scheme, authority)).toBeUndefined();
    }
  });

  it('keeps pseudo, hop-by-hop and control headers off streams', () => {
    for (const name of [
      ':path',
      'connection',
      'upgrade',
      'host',
      'transfer-encoding',
      'argocd-extension-proxy-error',
    ]) {
      expect(isConnectionSpecific(name)).toBe(true);
    }
    expect(isConnectionSpecific('argocd-username')).toBe(false);
  });

  it('compares tokens by value only', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});

describe('proxyFor (HTTPS_PROXY / NO_PROXY)', () => {
  const url = new URL('https://argocd.example.com');
  it('uses HTTPS_PROXY for https and HTTP_PROXY for http', () => {
    expect(proxyFor(url, { HTTPS_PROXY: 'http://proxy:3128' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { https_proxy: 'proxy:3128' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { HTTP_PROXY: 'http://proxy:3128' })).toBeUndefined();
    expect(proxyFor(new URL('http://argocd'), { HTTP_PROXY: 'http://p:1' })?.host).toBe('p:1');
  });
  it('honours NO_PROXY by name, suffix, port and *', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128' };
    expect(proxyFor(url, { ...env, NO_PROXY: 'argocd.example.com' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: '.example.com' })).toBeUndefined();
    expect(proxyFor(url, { ...env, no_proxy: 'example.com:443' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: 'example.com:8443' })?.host).toBe('proxy:3128');
    expect(proxyFor(url, { ...env, NO_PROXY: '*' })).toBeUndefined();
    expect(proxyFor(url, { ...env, NO_PROXY: 'ample.com' })?.host).toBe('proxy:3128');
  });
});

describe('SecretHeaders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-headers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("adds DIR/<Header> to every host and DIR/<host>/<Header> to that host, over the sidecar's", () => {
    writeFileSync(join(dir, 'X-Api-Key'), 'k1\n');
    mkdirSync(join(dir, 'prom'));
    writeFileSync(join(dir, 'prom', 'Authorization'), 'Bearer p');
    mkdirSync(join(dir, '..data'));
    writeFileSync(join(dir, '..data', 'ignored'), 'x');
    const secrets = new SecretHeaders(dir);
    const forProm: Record<string, string> = { authorization: 'from-sidecar' };
    secrets.apply(forProm, 'prom');
    expect(forProm).toEqual({ authorization: 'Bearer p', 'x-api-key': 'k1' });
    const forOther: Record<string, string> = {};
    secrets.apply(forOther, 'other');
    expect(forOther).toEqual({ 'x-api-key': 'k1' });
    expect(secrets.values().sort()).toEqual(['Bearer p', 'k1']);
  });

  it('refuses an invalid header value, naming the file but not the value', () => {
    const bad = mkdtempSync(join(tmpdir(), 'secret-headers-bad-'));
    writeFileSync(join(bad, 'X-Bad'), 'line1\nline2-HIDDENVALUE\n');
    expect(() => new SecretHeaders(bad)).toThrow(/X-Bad: not a valid header name or value/);
    expect(() => new SecretHeaders(bad)).not.toThrow(/HIDDENVALUE/);
    rmSync(bad, { recursive: true, force: true });
  });
});
