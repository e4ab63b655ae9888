import { readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { Service } from 'kubernetes-models/v1/Service';
import { readObjects } from '../helpers/kustomize-lite';
import { REPO_ROOT } from '../helpers/sidecar-process';

const MANIFESTS = join(REPO_ROOT, 'manifests');

interface HelmValues {
  server: {
    ingress: { extraPaths: Array<{ path: string; pathType: string; backend: IngressBackend }> };
    extraContainers: Array<{ name: string; ports: Array<{ name: string; containerPort: number }> }>;
  };
  extraObjects: Array<{ kind: string; metadata: { name: string }; spec: ServiceSpec }>;
}
interface IngressBackend {
  service: { name: string; port: { number: number } };
}
interface ServiceSpec {
  selector: Record<string, string>;
  ports: Array<{ port: number; targetPort: number }>;
}

function loadValues(): HelmValues {
  return YAML.parse(readFileSync(join(MANIFESTS, 'helm', 'values.yaml'), 'utf8')) as HelmValues;
}

/**
 * Problems with how the chart's Ingress reaches the sidecar: the /extensions/ path must name
 * a Service from extraObjects that selects the argocd-server pods and sends the path's port
 * to the sidecar's extension port.
 */
function findIngressProblems(values: HelmValues): string[] {
  const problems: string[] = [];
  const paths = values.server.ingress.extraPaths.filter((p) => p.path === '/extensions/');
  if (paths.length !== 1 || paths[0].pathType !== 'Prefix') {
    return ['server.ingress.extraPaths needs one Prefix path /extensions/'];
  }
  const { name, port } = paths[0].backend.service;
  const service = values.extraObjects.find((o) => o.kind === 'Service' && o.metadata.name === name);
  if (!service) return [`no Service ${name} in extraObjects`];
  if (service.spec.selector['app.kubernetes.io/name'] !== 'argocd-server') {
    problems.push(`Service ${name} does not select the argocd-server pods`);
  }
  const sidecar = values.server.extraContainers.find((c) => c.name === 'extension-proxy');
  const extensionPort = sidecar?.ports.find((p) => p.name === 'ext-proxy')?.containerPort;
  const servicePort = service.spec.ports.find((p) => p.port === port.number);
  if (!servicePort || servicePort.targetPort !== extensionPort) {
    problems.push(
      `Service ${name} port ${port.number} does not reach the sidecar's ext-proxy port`,
    );
  }
  return problems;
}

describe('Helm values', () => {
  it('declares extra objects that are valid Kubernetes Services', () => {
    for (const object of loadValues().extraObjects) {
      expect(object.kind).toBe('Service');
      expect(() =>
        new Service(object as ConstructorParameters<typeof Service>[0]).validate(),
      ).not.toThrow();
    }
  });

  it('routes /extensions/ from the chart Ingress to the sidecar port', () => {
    expect(findIngressProblems(loadValues())).toEqual([]);
  });

  it.each([
    [
      'the path is /extensions',
      (v: HelmValues) => (v.server.ingress.extraPaths[0].path = '/extensions'),
    ],
    [
      'the Service port goes elsewhere',
      (v: HelmValues) => (v.extraObjects[0].spec.ports[0].targetPort = 8080),
    ],
    [
      'the Service selects other pods',
      (v: HelmValues) => (v.extraObjects[0].spec.selector = { app: 'x' }),
    ],
    ['the Service is missing', (v: HelmValues) => (v.extraObjects = [])],
  ])('catches a broken route when %s', (_name, breakIt) => {
    const values = loadValues();
    breakIt(values);
    expect(findIngressProblems(values)).not.toEqual([]);
  });

  it('gives the relay peers the same headless Service as the kustomize Component', () => {
    const [component] = readObjects(
      join(MANIFESTS, 'components', 'extension-proxy', 'relay-peers-service.yaml'),
    );
    const helm = loadValues().extraObjects.find((o) => o.metadata.name === component.metadata.name);
    expect(helm?.spec).toEqual(component.spec);
  });
});
