import {
  isAllowed,
  parseAllowedHost,
  parseTarget,
} from '../../../../proxy-server/src/delegate/agent/allowlist';

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
});
