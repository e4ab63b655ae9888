import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { normalizeRootPath } from '../../proxy-server/src/proxy/extension-path';
import { renderComponentWith, UPSTREAM_ARGOCD_INSTALL } from '../helpers/component-render';
import { K8sObject, readObjects } from '../helpers/kustomize';
import { describeWithKustomize } from './describe-with-kustomize';
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

function rulePaths(ingress: K8sObject = readObjects(INGRESS)[0]): IngressPath[] {
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

const ROOT_PATH_EXAMPLE = join(REPO_ROOT, 'manifests', 'examples', 'rootpath');

/** Argo CD (the local stand-in) + the Component + the root path example's patches. */
function renderRootPathExample(): K8sObject[] {
  const example = YAML.parse(
    readFileSync(join(ROOT_PATH_EXAMPLE, 'kustomization.yaml'), 'utf8'),
  ) as { patches: Array<{ path: string }> };
  return renderComponentWith(example.patches.map((p) => join('rootpath', p.path)));
}

interface EnvVar {
  name: string;
  valueFrom?: unknown;
}
function containerEnv(deployment: K8sObject | undefined, container: string): EnvVar[] {
  const spec = deployment?.spec as
    { template: { spec: { containers: Array<{ name: string; env?: EnvVar[] }> } } } | undefined;
  return spec?.template.spec.containers.find((c) => c.name === container)?.env ?? [];
}

describeWithKustomize('the Ingress rule under a root path (manifests/examples/rootpath)', () => {
  let objects: K8sObject[];
  let paths: IngressPath[];
  beforeAll(() => {
    objects = renderRootPathExample();
    paths = rulePaths(find('Ingress', 'argocd-extension-proxy'));
  });
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  const toSidecar = (path: string) => paths.some((rule) => matches(rule, path));

  it.each([
    '/argocd/extensions/anomaly/api/v1/anomalies?kind=Deployment',
    '/argocd/extensions/anomaly',
    '/argocd/extensions/.delegate/connect',
  ])('sends %s to the sidecar', (path) => {
    expect(toSidecar(path)).toBe(true);
  });

  it.each([
    '/argocd/extensions.js',
    '/extensions/anomaly/api/v1/anomalies',
    '/argocdx/extensions/anomaly/',
    '/argocd/api/v1/applications',
    '/argocd/',
  ])('leaves %s to argocd-server', (path) => {
    expect(toSidecar(path)).toBe(false);
  });

  it('puts the rule under the root path argocd-server and the sidecar read (argocd-cmd-params-cm server.rootpath)', () => {
    const params = find('ConfigMap', 'argocd-cmd-params-cm')?.data as Record<string, string>;
    const root = normalizeRootPath(params['server.rootpath']);
    expect(root).toBe('/argocd');
    expect(paths.map((p) => p.path)).toEqual([`${root}/extensions/`]);
    expect(paths[0].backend.service).toEqual({
      name: 'argocd-server',
      port: { name: 'ext-proxy' },
    });
  });

  const rootPathEnv = {
    name: 'ARGOCD_SERVER_ROOTPATH',
    valueFrom: {
      configMapKeyRef: { name: 'argocd-cmd-params-cm', key: 'server.rootpath', optional: true },
    },
  };
  it('gives the sidecar the setting as argocd-server gets it: ARGOCD_SERVER_ROOTPATH, optional', () => {
    const env = containerEnv(find('Deployment', 'argocd-server'), 'extension-proxy');
    expect(env.filter((e) => e.name === 'ARGOCD_SERVER_ROOTPATH')).toEqual([rootPathEnv]);
  });

  (existsSync(UPSTREAM_ARGOCD_INSTALL) ? it : it.skip)(
    "matches argocd-server's own env entry in Argo CD's install manifest",
    () => {
      const upstream = readObjects(UPSTREAM_ARGOCD_INSTALL).find(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-server',
      );
      const env = containerEnv(upstream, 'argocd-server');
      expect(env.filter((e) => e.name === 'ARGOCD_SERVER_ROOTPATH')).toEqual([rootPathEnv]);
    },
  );
});
