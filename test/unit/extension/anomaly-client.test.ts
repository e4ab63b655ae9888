import {
  AnomalyApiError,
  buildAnomaliesUrl,
  buildApplicationHeaders,
  fetchAnomalies,
  type FetchFunction,
} from '../../../extension/src/api/anomaly-client';
import { groupOfApiVersion, resourceRefOf } from '../../../extension/src/api/resource-ref';
import type { Application } from '../../../extension/src/argocd-types';

const app: Application = {
  metadata: { name: 'guestbook', namespace: 'argocd' },
  spec: { project: 'default' },
};
const deployment = {
  group: 'apps',
  kind: 'Deployment',
  namespace: 'guestbook',
  name: 'guestbook-ui',
};

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** The page's base, as Argo CD's `<base href="/">` gives it. */
const BASE = 'https://h/';

describe('buildAnomaliesUrl', () => {
  it('builds the anomalies path under /extensions/anomaly with every query parameter', () => {
    const url = buildAnomaliesUrl(deployment, { from: 1795300000, to: 1795303600, step: 60 }, BASE);
    expect(url).toBe(
      'https://h/extensions/anomaly/api/v1/anomalies?group=apps&kind=Deployment&namespace=guestbook' +
        '&name=guestbook-ui&from=1795300000&to=1795303600&step=60',
    );
  });

  // Under server.rootpath Argo CD's index.html has <base href="/argocd/">, and the
  // Ingress sends /argocd/extensions/ to the sidecar: a URL from / would miss both.
  it.each([
    ['https://h/', 'https://h/extensions/anomaly/api/v1/anomalies'],
    ['https://h/argocd/', 'https://h/argocd/extensions/anomaly/api/v1/anomalies'],
    ['https://h/tools/argo-cd/', 'https://h/tools/argo-cd/extensions/anomaly/api/v1/anomalies'],
    [
      'http://127.0.0.1:8083/argocd/',
      'http://127.0.0.1:8083/argocd/extensions/anomaly/api/v1/anomalies',
    ],
  ])('resolves the URL against the page base %s', (base, expected) => {
    const url = buildAnomaliesUrl(deployment, { from: 1, to: 2 }, base);
    expect(url.split('?')[0]).toBe(expected);
  });

  it("uses the page's document.baseURI when no base is given", () => {
    const globals = globalThis as { document?: { baseURI: string } };
    globals.document = { baseURI: 'https://h/argocd/' };
    try {
      expect(buildAnomaliesUrl(deployment, { from: 1, to: 2 }).split('?')[0]).toBe(
        'https://h/argocd/extensions/anomaly/api/v1/anomalies',
      );
    } finally {
      delete globals.document;
    }
  });

  it('sends the core group and a cluster-scoped namespace as empty strings', () => {
    const url = new URL(
      buildAnomaliesUrl(
        { group: '', kind: 'Node', namespace: '', name: 'n1' },
        { from: 1, to: 2 },
        BASE,
      ),
    );
    expect(url.searchParams.get('group')).toBe('');
    expect(url.searchParams.get('namespace')).toBe('');
    expect(url.searchParams.has('step')).toBe(false);
  });

  it('encodes names so they cannot add parameters or path segments', () => {
    const url = buildAnomaliesUrl(
      { ...deployment, name: 'a&b=c/../d' },
      { from: 1.7, to: 2.2 },
      'https://h/argocd/',
    );
    const parsed = new URL(url);
    expect(parsed.pathname).toBe('/argocd/extensions/anomaly/api/v1/anomalies');
    expect(parsed.searchParams.get('name')).toBe('a&b=c/../d');
    expect(parsed.searchParams.get('from')).toBe('1');
    expect(parsed.searchParams.get('to')).toBe('2');
  });
});

describe('buildApplicationHeaders', () => {
  it('names the application as <namespace>:<name> and its project', () => {
    expect(buildApplicationHeaders(app)).toEqual({
      'Argocd-Application-Name': 'argocd:guestbook',
      'Argocd-Project-Name': 'default',
    });
  });
});

describe('resourceRefOf', () => {
  it.each([
    ['apps/v1', 'apps'],
    ['v1', ''],
    ['argoproj.io/v1alpha1', 'argoproj.io'],
    [undefined, ''],
  ])('takes the group of apiVersion %p as %p', (apiVersion, group) => {
    expect(groupOfApiVersion(apiVersion)).toBe(group);
  });

  it('identifies a Pod in the core group', () => {
    expect(
      resourceRefOf({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } }),
    ).toEqual({ group: '', kind: 'Pod', namespace: 'ns', name: 'p' });
  });
});

describe('fetchAnomalies', () => {
  const range = { from: 100, to: 200, step: 15 };

  it('sends a GET with the application headers and returns the parsed body', async () => {
    const body = { source: 'prometheus', scores: [] };
    const fetchFn = jest.fn<ReturnType<FetchFunction>, Parameters<FetchFunction>>(async () =>
      jsonResponse(200, body),
    );
    await expect(
      fetchAnomalies(app, deployment, range, { fetchFn, baseURI: 'https://h/argocd/' }),
    ).resolves.toEqual(body);
    const [url, init] = fetchFn.mock.calls[0];
    expect(url).toBe(buildAnomaliesUrl(deployment, range, 'https://h/argocd/'));
    expect(url.startsWith('https://h/argocd/extensions/anomaly/api/v1/anomalies?')).toBe(true);
    expect(init.method).toBe('GET');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers).toMatchObject({
      'Argocd-Application-Name': 'argocd:guestbook',
      'Argocd-Project-Name': 'default',
    });
  });

  it('rejects a 403 with the status and the JSON error body', async () => {
    const denial = {
      error: 'permission denied: extensions, invoke, anomaly',
      status: 403,
      requiredPermission: 'extensions, invoke, anomaly',
      policy: 'p, alice, extensions, invoke, anomaly, allow',
    };
    const fetchFn: FetchFunction = async () => jsonResponse(403, denial);
    const error = await fetchAnomalies(app, deployment, range, { fetchFn, baseURI: BASE }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(AnomalyApiError);
    expect(error).toMatchObject({ status: 403, body: denial, message: denial.error });
  });

  it('rejects a non-JSON error page with the status and no body', async () => {
    const fetchFn: FetchFunction = async () =>
      new Response('<html>Bad Gateway</html>', { status: 502 });
    const error = await fetchAnomalies(app, deployment, range, { fetchFn, baseURI: BASE }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ status: 502, body: undefined });
    expect(error.message).toBe('request failed with status 502');
  });

  it('rejects a network failure as status 0', async () => {
    const fetchFn: FetchFunction = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(
      fetchAnomalies(app, deployment, range, { fetchFn, baseURI: BASE }),
    ).rejects.toMatchObject({
      name: 'AnomalyApiError',
      status: 0,
    });
  });

  it('rejects a 200 that is not JSON', async () => {
    const fetchFn: FetchFunction = async () => new Response('not json', { status: 200 });
    await expect(
      fetchAnomalies(app, deployment, range, { fetchFn, baseURI: BASE }),
    ).rejects.toMatchObject({
      status: 200,
      message: 'the response is not valid JSON',
    });
  });

  it('passes the abort signal to fetch and lets the AbortError through', async () => {
    const controller = new AbortController();
    const fetchFn: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () =>
          reject(new DOMException('The operation was aborted.', 'AbortError')),
        );
      });
    const pending = fetchAnomalies(app, deployment, range, {
      fetchFn,
      signal: controller.signal,
      baseURI: BASE,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('aborts a real request to a server that never answers', async () => {
    const http = await import('http');
    const controller = new AbortController();
    // Aborted once the request has reached the server: it is in flight, unanswered.
    const server = http.createServer(() => controller.abort());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const fetchFn: FetchFunction = (url, init) => fetch(url, init);
    const pending = fetchAnomalies(app, deployment, range, {
      fetchFn,
      signal: controller.signal,
      baseURI: `http://127.0.0.1:${port}/`,
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
