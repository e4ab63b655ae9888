import { parseExtensionConfigs } from '../../../proxy-server/src/config/extension-config';

const secrets = {
  'ext.token': '  s3cr3t-value \n',
  empty: '   ',
  'tls.key': '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
};

function parse(cm: Record<string, string>, extraSecrets: Record<string, string> = {}) {
  return parseExtensionConfigs(cm, { ...secrets, ...extraSecrets });
}

describe('parseExtensionConfigs', () => {
  it('reads extension.config with Argo CD defaults', () => {
    const result = parse({
      'extension.config': `
extensions:
- name: anomaly
  backend:
    services:
    - url: http://anomaly.argocd.svc:8080/api
`,
    });
    expect(result.problems).toEqual([]);
    const ext = result.extensions.get('anomaly')!;
    expect(ext.backend).toMatchObject({
      connectionTimeoutMs: 2000,
      keepAliveMs: 15000,
      idleConnectionTimeoutMs: 60000,
      maxIdleConnections: 30,
      responseTimeoutMs: 60000,
    });
    expect(ext.backend.services[0].url.href).toBe('http://anomaly.argocd.svc:8080/api');
    expect(ext.backend.services[0].headers).toEqual([]);
  });

  it('reads extension.config.<name> as the backend object itself', () => {
    const result = parse({
      'extension.config.cost': `
connectionTimeout: 500ms
keepAlive: 1m
idleConnectionTimeout: 1m30s
maxIdleConnections: 64
responseTimeout: 5s
services:
- url: https://cost.example.com
  headers:
  - name: Authorization
    value: $ext.token
`,
    });
    expect(result.problems).toEqual([]);
    const ext = result.extensions.get('cost')!;
    expect(ext.backend).toMatchObject({
      connectionTimeoutMs: 500,
      keepAliveMs: 60000,
      idleConnectionTimeoutMs: 90000,
      maxIdleConnections: 64,
      responseTimeoutMs: 5000,
    });
    // Argo CD trims resolved secret values (settings.ReplaceStringSecret).
    expect(ext.backend.services[0].headers).toEqual([
      { name: 'Authorization', value: 's3cr3t-value' },
    ]);
    expect([...result.secretValues]).toEqual(['s3cr3t-value']);
  });

  it('merges both forms and reports every problem at once with its path', () => {
    const result = parse({
      'extension.config': `
extensions:
- name: good
  backend:
    services: [{url: "http://a"}]
- name: "bad/name"
  backend:
    services: [{url: "http://b"}]
- name: multi
  backend:
    connectionTimeout: 2
    services:
    - url: http://c
    - url: ftp://d
      cluster: {}
- backend:
    services: [{url: "http://e"}]
`,
      'extension.config.good': 'services: [{url: "http://f"}]',
    });
    expect(result.problems).toEqual([
      'extension.config: extensions[1].name "bad/name" is invalid: only letters, digits, hyphens and underscores are allowed',
      'extension.config: extensions[2].backend.connectionTimeout must be a duration like "2s", "500ms" or "1m30s"',
      'extension.config: extensions[2].backend.services[0].cluster must be set when an extension has more than one service',
      'extension.config: extensions[2].backend.services[1].url must be an http or https URL',
      'extension.config: extensions[2].backend.services[1].cluster must set name or server',
      'extension.config: extensions[3].name must be set',
      'extension.config.good: name "good" is configured more than once',
    ]);
  });

  it.each([
    [
      'a configured Argocd-* header',
      'name: Argocd-Username\n      value: x',
      'headers[0].name "Argocd-Username" is set by the proxy and cannot be configured',
    ],
    [
      'a lower-case identity header',
      'name: argocd-user-groups\n      value: x',
      'headers[0].name "argocd-user-groups" is set by the proxy and cannot be configured',
    ],
    [
      'a hop-by-hop header',
      'name: Connection\n      value: close',
      'headers[0].name "Connection" is set by the proxy and cannot be configured',
    ],
    [
      'a forwarded header',
      'name: X-Forwarded-For\n      value: 1.2.3.4',
      'headers[0].name "X-Forwarded-For" is set by the proxy and cannot be configured',
    ],
    [
      'Host',
      'name: Host\n      value: evil',
      'headers[0].name "Host" is set by the proxy and cannot be configured',
    ],
    [
      'an empty value',
      'name: X-Token\n      value: ""',
      'headers[0].value must be a non-empty string',
    ],
    [
      'a bad header name',
      'name: "X Token"\n      value: x',
      'headers[0].name "X Token" is not a valid header name',
    ],
    ['a missing header name', 'value: x', 'headers[0].name must be set'],
    [
      'a control character in a value',
      'name: X-Token\n      value: "a\\tb\\u0001c"',
      'headers[0].value must not contain control characters or line breaks',
    ],
    [
      'a line break in a value',
      'name: X-Token\n      value: "a\\r\\nInjected: 1"',
      'headers[0].value must not contain control characters or line breaks',
    ],
  ])('rejects %s', (_case, header, message) => {
    const result = parse({
      'extension.config.x': `services:\n  - url: http://x\n    headers:\n    - ${header}\n`,
    });
    expect(result.problems).toEqual([`extension.config.x: services[0].${message}`]);
    expect(result.extensions.size).toBe(0);
  });

  it.each([
    [
      'credentials in the URL',
      'http://user:pw@x',
      'services[0].url must not contain credentials; use a header with a $secret value',
    ],
    ['a query in the URL', 'http://x/?a=b', 'services[0].url must not have a query or fragment'],
    ['a relative URL', '/api', 'services[0].url is not a valid URL'],
  ])('rejects %s', (_case, url, message) => {
    const result = parse({ 'extension.config.x': `services:\n  - url: "${url}"\n` });
    expect(result.problems).toEqual([`extension.config.x: ${message}`]);
  });

  it('sends non-ASCII header values as UTF-8 bytes, as Argo CD does', () => {
    const result = parse({
      'extension.config.x':
        'services:\n- url: http://x\n  headers:\n  - name: X-Team\n    value: équipe-€\n',
    });
    expect(result.problems).toEqual([]);
    const value = result.extensions.get('x')!.backend.services[0].headers[0].value;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('équipe-€');
  });

  it('reads allowRequestsWithoutApplication: off unless true, for one service without cluster', () => {
    const on = parse({
      'extension.config.x': 'allowRequestsWithoutApplication: true\nservices: [{url: "http://x"}]',
    });
    expect(on.problems).toEqual([]);
    expect(on.extensions.get('x')!.backend.allowRequestsWithoutApplication).toBe(true);
    for (const value of ['false', 'null']) {
      const off = parse({
        'extension.config.x': `allowRequestsWithoutApplication: ${value}\nservices: [{url: "http://x"}]`,
      });
      expect(off.problems).toEqual([]);
      expect(off.extensions.get('x')!.backend.allowRequestsWithoutApplication).toBeUndefined();
    }
  });

  it.each([
    ['a value that is not a boolean', '"yes"', '[{url: "http://x"}]', 'must be true or false'],
    [
      'two services',
      'true',
      '[{url: "http://x", cluster: {name: a}}, {url: "http://y", cluster: {name: b}}]',
      'needs exactly one service without cluster: a request without an application has no destination to route by',
    ],
    [
      'a service for one cluster',
      'true',
      '[{url: "http://x", cluster: {name: a}}]',
      'needs exactly one service without cluster: a request without an application has no destination to route by',
    ],
  ])('refuses allowRequestsWithoutApplication with %s', (_case, value, services, message) => {
    const result = parse({
      'extension.config.x': `allowRequestsWithoutApplication: ${value}\nservices: ${services}`,
    });
    expect(result.problems).toEqual([
      `extension.config.x: allowRequestsWithoutApplication ${message}`,
    ]);
    expect(result.extensions.size).toBe(0);
  });

  it('refuses durations a timer cannot hold, instead of firing after 1 ms', () => {
    const result = parse({
      'extension.config.x': 'responseTimeout: 600h\nservices: [{url: "http://x"}]',
    });
    expect(result.problems).toEqual([
      'extension.config.x: responseTimeout must be at most 596h (about 24 days)',
    ]);
  });

  it('reads `delegate: NAME` and requires its token in argocd-secret', () => {
    const ok = parse(
      { 'extension.config.x': 'services: [{url: "http://prom.internal:9090", delegate: onprem}]' },
      { 'delegate.onprem.token': 'tok' },
    );
    expect(ok.problems).toEqual([]);
    expect(ok.extensions.get('x')!.backend.services[0].delegate).toBe('onprem');
    const missing = parse({
      'extension.config.x': 'services: [{url: "http://x", delegate: onprem}]',
    });
    // A missing token fails only this extension (see the next tests).
    expect(missing.problems).toEqual([]);
    expect(missing.extensions.get('x')!.unavailable).toEqual([
      'extension.config.x: services[0].delegate needs argocd-secret key delegate.onprem.token (the token agent onprem connects with)',
    ]);
  });

  it.each([
    [
      'a missing secret key',
      'value: $nope',
      'headers[0].value references argocd-secret key "nope", which does not exist',
    ],
    [
      'an empty secret',
      'value: $empty',
      'headers[0].value references argocd-secret key "empty", which is empty',
    ],
  ])(
    'marks an extension with %s unavailable and leaves the others alone',
    (_case, value, message) => {
      const result = parse({
        'extension.config': `extensions:
- name: broken
  backend:
    services:
    - url: http://x
      headers:
      - name: X-Token
        ${value}
- name: fine
  backend:
    services:
    - url: http://y
      headers:
      - name: X-Token
        value: $ext.token
`,
      });
      expect(result.problems).toEqual([]);
      expect(result.extensions.get('broken')!.unavailable).toEqual([
        `extension.config: extensions[0].backend.services[0].${message}`,
      ]);
      expect(result.extensions.get('fine')!.unavailable).toBeUndefined();
      expect(result.extensions.get('fine')!.backend.services[0].headers).toEqual([
        { name: 'X-Token', value: 's3cr3t-value' },
      ]);
    },
  );

  it('marks an extension unavailable when its TLS key reference is missing', () => {
    const result = parse({
      'extension.config.x': 'services:\n- url: https://a\n  tls: {cert: "C", key: $gone}\n',
    });
    expect(result.problems).toEqual([]);
    expect(result.extensions.get('x')!.unavailable).toEqual([
      'extension.config.x: services[0].tls.key references argocd-secret key "gone", which does not exist',
    ]);
  });

  it('refuses a bad delegate name, and tls on a delegated service', () => {
    const result = parse(
      {
        'extension.config.x': 'services: [{url: "http://x", delegate: "on prem"}]',
        'extension.config.y':
          'services: [{url: "https://y", delegate: onprem, tls: {insecureSkipVerify: true}}]',
      },
      { 'delegate.onprem.token': 'tok' },
    );
    expect(result.problems).toEqual([
      'extension.config.x: services[0].delegate must be a delegate name matching ^[A-Za-z0-9-_]+$',
      'extension.config.y: services[0].delegate cannot be combined with tls (the delegate agent makes the TLS connection)',
    ]);
  });

  it('never puts a secret value into a problem message', () => {
    const result = parse({
      'extension.config.x':
        'services:\n  - url: http://x\n    headers:\n    - name: Host\n      value: $ext.token\n',
    });
    expect(result.problems.join('\n')).not.toContain('s3cr3t');
  });

  it('rejects YAML that does not parse, naming the key', () => {
    const result = parse({ 'extension.config': 'extensions: [' });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^extension\.config: is not valid YAML: /);
  });

  it('rejects two services for the same cluster (Argo CD appendProxy duplicate)', () => {
    const result = parse({
      'extension.config.x': `services:
- url: http://a
  cluster: {name: in-cluster}
- url: http://b
  cluster: {name: in-cluster, server: https://k}
`,
    });
    expect(result.problems).toEqual([
      'extension.config.x: services[1].cluster has the same cluster name "in-cluster" as services[0]',
    ]);
  });

  it('warns about unknown fields but accepts them, as Argo CD ignores them', () => {
    const result = parse({
      'extension.config.x': 'servces: []\nservices: [{url: "http://a", headrs: []}]',
    });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      'extension.config.x: servces is not a known field and is ignored',
      'extension.config.x: services[0].headrs is not a known field and is ignored',
    ]);
  });

  it('reads backend TLS settings and insists the private key comes from argocd-secret', () => {
    const ok = parse({
      'extension.config.x': `services:
- url: https://a
  tls: {ca: "PEM-CA", cert: "PEM-CERT", key: $tls.key, serverName: backend.internal}
`,
    });
    expect(ok.problems).toEqual([]);
    expect(ok.extensions.get('x')!.backend.services[0].tls).toEqual({
      ca: 'PEM-CA',
      cert: 'PEM-CERT',
      key: secrets['tls.key'],
      serverName: 'backend.internal',
      insecureSkipVerify: false,
    });
    const bad = parse({
      'extension.config.x':
        'services:\n- url: http://a\n  tls: {cert: "C", key: "inline", insecureSkipVerify: true}\n',
    });
    expect(bad.problems).toEqual([
      'extension.config.x: services[0].tls.key must be a $key reference to argocd-secret',
      'extension.config.x: services[0].tls is only allowed with an https url',
    ]);
    expect(bad.warnings).toEqual([
      'extension.config.x: services[0].tls.insecureSkipVerify is true: the backend certificate is not verified',
    ]);
  });

  it('ignores argocd-cm keys that are not extension configs', () => {
    const result = parse({ url: 'https://argocd.example.com', 'extension.configuration': 'x' });
    expect(result.problems).toEqual([]);
    expect(result.extensions.size).toBe(0);
  });
});
