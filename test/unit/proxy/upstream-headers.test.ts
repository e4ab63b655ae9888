import {
  buildUpstreamHeaders,
  filterRawResponseHeaders,
  filterResponseHeaders,
} from '../../../proxy-server/src/proxy/upstream-headers';

const ctx = {
  identity: {
    subject: 'alice',
    username: 'alice',
    userId: 'alice',
    groups: ['dev', 'ops'],
    issuer: 'argocd',
  },
  app: {
    name: 'guestbook',
    namespace: 'apps',
    project: 'team-a',
    destination: { name: 'in-cluster', server: 'https://kubernetes.default.svc' },
  },
  controlPlaneNamespace: 'argocd',
  configuredHeaders: [{ name: 'Authorization', value: 'Bearer backend-secret' }],
  upstreamHost: 'backend:8080',
  clientAddress: '10.1.2.3',
  clientProtocol: 'http' as const,
};

describe('buildUpstreamHeaders', () => {
  it('forwards exactly the allowed inbound headers plus the identity headers', () => {
    const out = buildUpstreamHeaders(
      {
        host: 'argocd.example.com',
        accept: 'application/json',
        'content-type': 'application/json',
        'content-length': '12',
        cookie: 'argocd.token=abc',
        authorization: 'Bearer user-token',
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop me',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic x',
        'argocd-username': 'admin',
        'argocd-user-groups': 'admins',
        'argocd-application-name': 'apps:guestbook',
        'argocd-anything': 'x',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil',
        forwarded: 'for=6.6.6.6',
        'x-real-ip': '6.6.6.6',
        expect: '100-continue',
        'x-custom': 'kept',
      },
      ctx,
    );
    expect(out).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': '12',
      'x-custom': 'kept',
      host: 'backend:8080',
      'argocd-username': 'alice',
      'argocd-user-id': 'alice',
      'argocd-user-groups': 'dev,ops',
      'argocd-application-name': 'apps:guestbook',
      'argocd-project-name': 'team-a',
      'argocd-namespace': 'argocd',
      'argocd-target-cluster-name': 'in-cluster',
      'argocd-target-cluster-url': 'https://kubernetes.default.svc',
      'x-forwarded-for': '10.1.2.3',
      'x-forwarded-host': 'argocd.example.com',
      'x-forwarded-proto': 'http',
      authorization: 'Bearer backend-secret',
    });
  });

  it('keeps chunked framing for a streamed body and omits empty identity fields', () => {
    const out = buildUpstreamHeaders(
      { 'transfer-encoding': 'chunked' },
      {
        ...ctx,
        identity: { subject: 'bob', username: 'bob', userId: 'bob', groups: [], issuer: 'argocd' },
        app: { ...ctx.app, destination: { server: 'https://k' } },
        configuredHeaders: [],
      },
    );
    expect(out['transfer-encoding']).toBe('chunked');
    expect(out).not.toHaveProperty('argocd-user-groups');
    expect(out).not.toHaveProperty('argocd-target-cluster-name');
    expect(out).not.toHaveProperty('authorization');
  });

  it('never lets Connection strip the framing headers (request smuggling)', () => {
    const out = buildUpstreamHeaders(
      {
        connection: 'keep-alive, Content-Length, Transfer-Encoding, Host, x-drop',
        'content-length': '79',
        'x-drop': '1',
      },
      { ...ctx, configuredHeaders: [] },
    );
    expect(out['content-length']).toBe('79');
    expect(out).not.toHaveProperty('x-drop');
  });

  it('sends identity values as UTF-8 bytes, like Argo CD', () => {
    const out = buildUpstreamHeaders(
      {},
      {
        ...ctx,
        identity: {
          subject: 'josé',
          username: 'josé@exämple.com',
          userId: 'josé',
          groups: ['équipe'],
          issuer: 'x',
        },
      },
    );
    const utf8 = (v: unknown) => Buffer.from(String(v), 'latin1').toString('utf8');
    expect(utf8(out['argocd-username'])).toBe('josé@exämple.com');
    expect(utf8(out['argocd-user-groups'])).toBe('équipe');
  });

  it('refuses identity values with control characters instead of stripping them', () => {
    expect(() =>
      buildUpstreamHeaders(
        {},
        {
          ...ctx,
          identity: { ...ctx.identity, groups: ['adm\nin'] },
        },
      ),
    ).toThrow('argocd-user-groups would contain control characters; refusing the session');
  });
});

describe('filterResponseHeaders', () => {
  it('drops Set-Cookie and hop-by-hop headers from the backend', () => {
    const headers = {
      'set-cookie': ['argocd.token=evil'],
      connection: 'keep-alive, x-private',
      'x-private': 'a',
      'keep-alive': 'timeout=5',
      'content-type': 'text/plain',
      'transfer-encoding': 'chunked',
    };
    filterResponseHeaders(headers);
    expect(headers).toEqual({ 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  });
});

describe('filterRawResponseHeaders', () => {
  const raw = (...pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));

  it('drops Set-Cookie, hop-by-hop headers and those Connection names, keeping spelling and repeats', () => {
    const out = filterRawResponseHeaders(
      raw(
        'Content-Type',
        'text/plain',
        'Set-Cookie',
        'argocd.token=evil',
        'set-cookie',
        'other=1',
        'Connection',
        'keep-alive, X-Private',
        'X-Private',
        'a',
        'Keep-Alive',
        'timeout=5',
        'Transfer-Encoding',
        'chunked',
        'Vary',
        'Accept',
        'Vary',
        'Origin',
        'Upgrade',
        'h2c',
      ),
    );
    expect(out).toEqual(['Content-Type', 'text/plain', 'Vary', 'Accept', 'Vary', 'Origin']);
  });

  it('never lets Connection remove the framing headers', () => {
    const out = filterRawResponseHeaders(
      raw('Connection', 'content-length, close', 'Content-Length', '5', 'X-Other', 'b'),
    );
    expect(out).toEqual(['Content-Length', '5', 'X-Other', 'b']);
  });

  it('passes header bytes through unchanged (Latin-1 in, Latin-1 out)', () => {
    const value = Buffer.from('caf\u00e9 \u2713', 'utf8');
    const out = filterRawResponseHeaders([Buffer.from('X-Name'), value]);
    expect(Buffer.from(out[1], 'latin1').equals(value)).toBe(true);
  });
});
