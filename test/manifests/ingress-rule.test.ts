import { join } from 'path';
import { readObjects } from '../helpers/kustomize-lite';
import { REPO_ROOT } from '../helpers/sidecar-process';

const INGRESS = join(
  REPO_ROOT,
  'manifests',
  'components',
  'extension-proxy',
  'extensions-ingress.yaml',
);

interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { name?: string; number?: number } } };
}

/**
 * Kubernetes' `Prefix` match: the path is split on `/` and matched element by element, a
 * trailing slash ignored (networking.k8s.io/v1 HTTPIngressPath). `Exact` compares whole
 * strings; `ImplementationSpecific` is up to the controller, so we never rely on it.
 */
function matches(rule: IngressPath, requestPath: string): boolean {
  if (rule.pathType === 'Exact') return rule.path === requestPath;
  if (rule.pathType !== 'Prefix')
    throw new Error(`pathType ${rule.pathType} is controller-specific`);
  const want = rule.path.split('/').filter(Boolean);
  const got = requestPath.split('?')[0].split('/').filter(Boolean);
  return want.every((element, i) => got[i] === element);
}

function rulePaths(): IngressPath[] {
  const [ingress] = readObjects(INGRESS);
  const spec = ingress.spec as { rules: Array<{ http: { paths: IngressPath[] } }> };
  return spec.rules.flatMap((r) => r.http.paths);
}

describe('the Ingress rule for the sidecar', () => {
  const toSidecar = (path: string) => rulePaths().some((rule) => matches(rule, path));

  it.each([
    '/extensions/anomaly/api/v1/anomalies?kind=Deployment',
    '/extensions/anomaly',
    '/extensions/.delegate/connect',
  ])('sends %s to the sidecar', (path) => {
    expect(toSidecar(path)).toBe(true);
  });

  it.each(['/extensions.js', '/extensionsfoo/x', '/api/v1/applications', '/'])(
    'leaves %s to argocd-server',
    (path) => {
      expect(toSidecar(path)).toBe(false);
    },
  );

  it('targets the sidecar port by name on the argocd-server Service', () => {
    for (const rule of rulePaths()) {
      expect(rule.backend.service).toEqual({ name: 'argocd-server', port: { name: 'ext-proxy' } });
    }
  });

  it('matches element-wise as Kubernetes does, and refuses controller-specific path types', () => {
    const rule = rulePaths()[0];
    // The checks above can fail: a catch-all rule would take the UI bundle too.
    expect(matches({ ...rule, path: '/' }, '/extensions.js')).toBe(true);
    expect(matches({ ...rule, path: '/extensions' }, '/extensions.js')).toBe(false);
    expect(() => matches({ ...rule, pathType: 'ImplementationSpecific' }, '/x')).toThrow();
  });
});
