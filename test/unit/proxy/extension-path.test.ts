import {
  joinUpstreamPath,
  normalizeRootPath,
  parseExtensionPath,
} from '../../../proxy-server/src/proxy/extension-path';
import { InputError, NotFoundError } from '../../../proxy-server/src/errors';

describe('parseExtensionPath', () => {
  it.each([
    ['/extensions/anomaly', { name: 'anomaly', rest: '', query: '' }],
    ['/extensions/anomaly/', { name: 'anomaly', rest: '/', query: '' }],
    [
      '/extensions/anomaly/v1/scores?from=1&to=2',
      { name: 'anomaly', rest: '/v1/scores', query: '?from=1&to=2' },
    ],
    ['/extensions/my_ext-2/a%20b/c', { name: 'my_ext-2', rest: '/a%20b/c', query: '' }],
    ['/extensions/x/a?next=../../etc', { name: 'x', rest: '/a', query: '?next=../../etc' }],
    ['/extensions/x/file.tar.gz/..hidden', { name: 'x', rest: '/file.tar.gz/..hidden', query: '' }],
    ['/extensions/x/a;v=1/b', { name: 'x', rest: '/a;v=1/b', query: '' }],
  ])('parses %s', (url, expected) => {
    expect(parseExtensionPath(url)).toEqual(expected);
  });

  it.each([
    ['/api/v1/applications', 'path must start with /extensions/<extension-name>'],
    ['/extensions', 'path must start with /extensions/<extension-name>'],
    ['/extensions/', 'extension name is missing from the path'],
    ['/extensions//x', 'extension name is missing from the path'],
    ['http://evil/extensions/x/', 'path must start with /extensions/<extension-name>'],
    ['/extensions/..', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/extensions/%2e%2e/x', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/extensions/a%2fb/x', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/extensions/a.b/x', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/extensions/x/../y', 'path must not contain "." or ".." segments'],
    ['/extensions/x/./y', 'path must not contain "." or ".." segments'],
    ['/extensions/x/..', 'path must not contain "." or ".." segments'],
    ['/extensions/x/%2e%2e/y', 'path must not contain "." or ".." segments'],
    ['/extensions/x/%2E%2e', 'path must not contain "." or ".." segments'],
    ['/extensions/x/.%2e/y', 'path must not contain "." or ".." segments'],
    ['/extensions/x/..;/admin', 'path must not contain "." or ".." segments'],
    ['/extensions/x/..;jsessionid=1/admin', 'path must not contain "." or ".." segments'],
    ['/extensions/x/.%3b/admin', 'path must not contain "." or ".." segments'],
    [`/extensions/${'a'.repeat(254)}/`, 'extension name is too long'],
    ['/extensions/x/a%2fb', 'path must not contain an encoded slash or backslash'],
    ['/extensions/x/a%2Fb', 'path must not contain an encoded slash or backslash'],
    ['/extensions/x/a%5cb', 'path must not contain an encoded slash or backslash'],
    ['/extensions/x/a\\..\\b', 'path must not contain a backslash'],
    ['/extensions/x\\..\\y', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/extensions/x/%252e%252e/y', 'path must not be percent-encoded twice'],
    ['/extensions/x/%252f', 'path must not be percent-encoded twice'],
    ['/extensions/x/%zz', 'path contains an invalid percent-encoding'],
    ['/extensions/x/%00', 'path must not contain control characters'],
    ['/extensions/x/a%0d%0aSet-Cookie:x', 'path must not contain control characters'],
    ['/extensions/x/a?b=c#frag', 'query string contains characters that must be percent-encoded'],
  ])('rejects %s', (url, message) => {
    expect(() => parseExtensionPath(url)).toThrow(new InputError(message));
  });
});

describe('normalizeRootPath', () => {
  // argocd-server trims slashes (server.go withRootPath: strings.Trim(RootPath, "/")).
  it.each([
    ['', ''],
    ['/', ''],
    ['//', ''],
    ['argocd', '/argocd'],
    ['/argocd', '/argocd'],
    ['/argocd/', '/argocd'],
    ['//argocd//', '/argocd'],
    ['tools/argo-cd', '/tools/argo-cd'],
    ["/a.b_c~d!$&'()*+,;=:@/", "/a.b_c~d!$&'()*+,;=:@"],
  ])('reads %p as %p', (text, expected) => {
    expect(normalizeRootPath(text)).toBe(expected);
  });

  it.each([
    ['https://argocd.example.com/argocd', 'not a URL'],
    ['/a//b', 'without empty, "." or ".." segments'],
    ['/a/../b', 'without empty, "." or ".." segments'],
    ['./argocd', 'without empty, "." or ".." segments'],
    ['/argo cd', 'no spaces, query, fragment or percent-encoding'],
    ['/argocd?x=1', 'no spaces, query, fragment or percent-encoding'],
    ['/argocd#top', 'no spaces, query, fragment or percent-encoding'],
    ['/argo%63d', 'no spaces, query, fragment or percent-encoding'],
    ['/argo\\cd', 'no spaces, query, fragment or percent-encoding'],
    ['/argocd\n', 'no spaces, query, fragment or percent-encoding'],
  ])('refuses %p', (text, message) => {
    expect(() => normalizeRootPath(text)).toThrow(InputError);
    expect(() => normalizeRootPath(text)).toThrow(message);
    expect(() => normalizeRootPath(text)).toThrow(JSON.stringify(text));
  });
});

describe('parseExtensionPath under a root path', () => {
  it.each([
    ['/argocd', '/argocd/extensions/anomaly', { name: 'anomaly', rest: '', query: '' }],
    [
      '/argocd',
      '/argocd/extensions/anomaly/v1/scores?from=1&to=2',
      { name: 'anomaly', rest: '/v1/scores', query: '?from=1&to=2' },
    ],
    ['/tools/argo-cd', '/tools/argo-cd/extensions/x/a/', { name: 'x', rest: '/a/', query: '' }],
  ])('under %s parses %s as without one', (root, url, expected) => {
    expect(parseExtensionPath(url, root)).toEqual(expected);
    expect(parseExtensionPath(url.slice(root.length))).toEqual(expected);
  });

  // argocd-server mounts everything at /<root>/: any other path is its mux's 404.
  it.each([
    '/extensions/anomaly/v1/scores',
    '/extensions/.delegate/connect',
    '/argocdx/extensions/anomaly/',
    '/ARGOCD/extensions/anomaly/',
    '/argo%63d/extensions/anomaly/',
    '/other/argocd/extensions/anomaly/',
    '/argocd',
    '/argocd?x=/extensions/anomaly/',
    '',
  ])('answers 404 for %p outside /argocd', (url) => {
    expect(() => parseExtensionPath(url, '/argocd')).toThrow(
      new NotFoundError(
        'path is outside the root path /argocd: extension requests go to /argocd/extensions/<extension-name>/...',
      ),
    );
  });

  it.each([
    ['/argocd/', 'path must start with /argocd/extensions/<extension-name>'],
    ['/argocd/api/v1/session', 'path must start with /argocd/extensions/<extension-name>'],
    ['/argocd//extensions/x/', 'path must start with /argocd/extensions/<extension-name>'],
    ['/argocd/extensions/', 'extension name is missing from the path'],
    ['/argocd/extensions/../x', 'extension name may only contain letters, digits, "-" and "_"'],
    ['/argocd/extensions/x/%2e%2e/y', 'path must not contain "." or ".." segments'],
    ['/argocd/extensions/x/a%2fb', 'path must not contain an encoded slash or backslash'],
  ])('answers 400 for %p inside /argocd, as without a root path', (url, message) => {
    expect(() => parseExtensionPath(url, '/argocd')).toThrow(new InputError(message));
  });
});

describe('joinUpstreamPath', () => {
  it.each([
    ['/', '', '', '/'],
    ['/', '/v1/a', '?q=1', '/v1/a?q=1'],
    ['/api', '', '', '/api'],
    ['/api', '/', '', '/api/'],
    ['/api/', '/v1', '?x', '/api/v1?x'],
    ['/api', '/v1/a%20b', '', '/api/v1/a%20b'],
  ])('joins service path %s with %s%s', (servicePath, rest, query, expected) => {
    expect(joinUpstreamPath(servicePath, { name: 'x', rest, query })).toBe(expected);
  });
});
