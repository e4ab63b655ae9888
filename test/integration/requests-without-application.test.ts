import {
  appHeaders,
  BACKEND_SECRET,
  DEFAULT_POLICY,
  Environment,
  extensionConfig,
} from '../helpers/environment';
import { request } from '../helpers/http-client';
import { localSession } from '../helpers/local-tokens';

/**
 * An extension that opts in (`allowRequestsWithoutApplication: true`, sidecar-only) takes
 * requests naming no application: checked for a session and `extensions, invoke, <name>`
 * only, forwarded to its single service with the identity headers and no application,
 * project or cluster header. Argo CD's own proxy refuses every such request
 * (server/extension/extension.go ValidateHeaders: 400); so does this sidecar for any other
 * extension, and for a request naming half an application.
 */
describe('requests without an application', () => {
  const env = new Environment();
  const alice = localSession('alice');
  const APPLICATION_HEADERS = [
    'argocd-application-name',
    'argocd-project-name',
    'argocd-target-cluster-name',
    'argocd-target-cluster-url',
  ];

  beforeAll(async () => {
    await env.start({
      policy: `${DEFAULT_POLICY}\np, alice, extensions, invoke, overview, allow`,
      cm: (e) => ({
        'extension.config':
          extensionConfig(e.backend.url, e.secondBackend.url) +
          `- name: overview
  backend:
    allowRequestsWithoutApplication: true
    services:
    - url: ${e.backend.url}/overview
      headers:
      - name: Authorization
        value: $anomaly.token
`,
      }),
    });
  });
  afterAll(() => env.stop());

  const call = (extension: string, headers: Record<string, string> = {}, token = alice) =>
    request(`${env.sidecar.url}/extensions/${extension}/api/summary?x=1`, {
      headers: { cookie: `argocd.token=${token}`, ...headers },
    });
  const applicationCalls = () =>
    env.argocd.requests.filter((r) => r.path.startsWith('/api/v1/applications/')).length;

  it("forwards an opted-in extension's request with identity headers only, asking Argo CD nothing about applications", async () => {
    const before = applicationCalls();
    const seen = env.backend.seen.length;
    const reply = await call('overview', {
      // Spoofed: every inbound Argocd-* header is dropped as on every path.
      'Argocd-Target-Cluster-Name': 'in-cluster',
      'Argocd-Username': 'admin',
    });
    expect(reply.status).toBe(200);
    expect(env.backend.seen.length).toBe(seen + 1);
    const forwarded = env.backend.seen[env.backend.seen.length - 1];
    expect(forwarded.url).toBe('/overview/api/summary?x=1');
    expect(forwarded.headers['argocd-username']).toBe('alice');
    expect(forwarded.headers['argocd-namespace']).toBe('argocd');
    // The configured header, not the caller's credentials.
    expect(forwarded.headers.authorization).toBe(BACKEND_SECRET);
    for (const name of APPLICATION_HEADERS) expect(forwarded.headers[name]).toBeUndefined();
    expect(forwarded.headers.cookie).toBeUndefined();
    expect(applicationCalls()).toBe(before);
  });

  it.each([
    ['no session', 'overview', {}, '', 401],
    ['bob, without extensions, invoke, overview', 'overview', {}, localSession('bob'), 403],
    [
      'half an application: the project alone',
      'overview',
      { 'Argocd-Project-Name': 'default' },
      undefined,
      400,
    ],
    ['an extension that does not opt in', 'anomaly', {}, undefined, 400],
  ])('refuses %s', async (_what, extension, headers, token, status) => {
    const seen = env.backend.seen.length;
    const reply = await call(extension, headers as Record<string, string>, token ?? alice);
    expect(reply.status).toBe(status);
    expect(env.backend.seen.length).toBe(seen);
  });

  it('tells a request to an extension that does not opt in what is missing, as before', async () => {
    const reply = await call('anomaly');
    expect(reply.json).toEqual({
      error: 'header Argocd-Application-Name must be provided',
      status: 400,
    });
  });

  it('checks a request that names an application as always, also for an opted-in extension', async () => {
    const reply = await call('overview', appHeaders('argocd:guestbook', 'default'));
    expect(reply.status).toBe(200);
    const forwarded = env.backend.seen[env.backend.seen.length - 1];
    expect(forwarded.headers['argocd-application-name']).toBe('argocd:guestbook');
    expect(forwarded.headers['argocd-project-name']).toBe('default');
    // An application alice may not read is refused by Argo CD's answer, as on any extension.
    const denied = await call('overview', appHeaders('argocd:secret-app', 'default'));
    expect(denied.status).toBe(403);
  });
});
