import { readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { readObjects } from '../helpers/kustomize';
import { NetworkPolicySpec, RELAY_PORT, relayPortProblems } from '../helpers/network-policy';
import { REPO_ROOT } from '../helpers/sidecar-process';

const MANIFESTS = join(REPO_ROOT, 'manifests');

interface HelmValues {
  server: {
    ingress: { extraPaths: Array<{ path: string; pathType: string; backend: IngressBackend }> };
    extraContainers: Array<{
      name: string;
      ports: Array<{ name: string; containerPort: number }>;
      env?: Array<{ name: string; valueFrom?: unknown }>;
    }>;
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

/**
 * The chart (>= 6.5) renders server.ingress.extraPaths with `tpl`: the sidecar's path takes
 * Argo CD's own root path setting (configs.params."server.rootpath", which the chart writes
 * to argocd-cmd-params-cm), slashes trimmed as argocd-server trims them: `/extensions/`
 * without one, `/argocd/extensions/` for `argocd`, `/argocd` or `/argocd/`.
 */
const SIDECAR_PATH =
  '{{ with trimAll "/" (toString (index .Values.configs.params "server.rootpath" | default "")) }}/{{ . }}{{ end }}/extensions/';

function loadValues(): HelmValues {
  return YAML.parse(readFileSync(join(MANIFESTS, 'helm', 'values.yaml'), 'utf8')) as HelmValues;
}

const VALIDATORS: Record<string, new (o: object) => { validate(): void }> = {
  Service,
  NetworkPolicy,
};

/** The values' NetworkPolicy for the argocd-server pods (exactly one). */
function serverPolicy(values: HelmValues): NetworkPolicySpec {
  const policies = values.extraObjects.filter((o) => o.kind === 'NetworkPolicy');
  expect(policies).toHaveLength(1);
  return policies[0].spec as unknown as NetworkPolicySpec;
}

/**
 * Problems with how the chart's Ingress reaches the sidecar: the /extensions/ path must name
 * a Service from extraObjects that selects the argocd-server pods and sends the path's port
 * to the sidecar's extension port.
 */
function findIngressProblems(values: HelmValues): string[] {
  const problems: string[] = [];
  const paths = values.server.ingress.extraPaths.filter((p) => p.path === SIDECAR_PATH);
  if (paths.length !== 1 || paths[0].pathType !== 'Prefix') {
    return ['server.ingress.extraPaths needs one Prefix path <root path>/extensions/'];
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
  it('declares extra objects that are valid Kubernetes Services and NetworkPolicies', () => {
    const objects = loadValues().extraObjects;
    expect(objects.map((o) => o.kind).sort()).toEqual(['NetworkPolicy', 'Service', 'Service']);
    for (const object of objects) {
      expect(() => new VALIDATORS[object.kind](object).validate()).not.toThrow();
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

  it("reads Argo CD's root path for the sidecar's Ingress path and for the sidecar itself", () => {
    const values = loadValues();
    expect(values.server.ingress.extraPaths.map((p) => p.path)).toEqual([SIDECAR_PATH]);
    const sidecar = values.server.extraContainers.find((c) => c.name === 'extension-proxy');
    expect(sidecar?.env?.filter((e) => e.name === 'ARGOCD_SERVER_ROOTPATH')).toEqual([
      {
        name: 'ARGOCD_SERVER_ROOTPATH',
        valueFrom: {
          configMapKeyRef: { name: 'argocd-cmd-params-cm', key: 'server.rootpath', optional: true },
        },
      },
    ]);
  });

  it('gives the relay peers the same headless Service as the kustomize Component', () => {
    const [component] = readObjects(
      join(MANIFESTS, 'components', 'extension-proxy', 'relay-peers-service.yaml'),
    );
    const helm = loadValues().extraObjects.find((o) => o.metadata.name === component.metadata.name);
    expect(helm?.spec).toEqual(component.spec);
  });

  it('admits the relay port only from argocd-server pods, with the kustomize Component rules', () => {
    const policy = serverPolicy(loadValues());
    expect(relayPortProblems(policy)).toEqual([]);
    const [component] = readObjects(
      join(MANIFESTS, 'components', 'extension-proxy', 'argocd-server-network-policy.yaml'),
    );
    expect(policy.ingress).toEqual((component.spec as NetworkPolicySpec).ingress);
  });

  const relayRule = (spec: NetworkPolicySpec) =>
    spec.ingress!.find((r) => r.ports?.some((p) => p.port === RELAY_PORT))!;
  it.each([
    ['an admit-all rule is added', (s: NetworkPolicySpec) => s.ingress!.push({})],
    ['the relay rule loses its peers', (s: NetworkPolicySpec) => delete relayRule(s).from],
    [
      'the relay rule admits a whole namespace',
      (s: NetworkPolicySpec) => relayRule(s).from!.push({ namespaceSelector: {} }),
    ],
    [
      'the open rule lists the relay port',
      (s: NetworkPolicySpec) => s.ingress![0].ports!.push({ port: RELAY_PORT, protocol: 'TCP' }),
    ],
    [
      'the open rule has no ports (all of them)',
      (s: NetworkPolicySpec) => delete s.ingress![0].ports,
    ],
    [
      'the relay rule is gone (peers cannot relay)',
      (s: NetworkPolicySpec) => (s.ingress = s.ingress!.filter((r) => r !== relayRule(s))),
    ],
    [
      'the policy selects other pods',
      (s: NetworkPolicySpec) => (s.podSelector = { matchLabels: { app: 'x' } }),
    ],
  ])('catches a relay port left open or closed when %s', (_name, breakIt) => {
    const policy = serverPolicy(loadValues());
    expect(relayPortProblems(policy)).toEqual([]);
    breakIt(policy);
    expect(relayPortProblems(policy)).not.toEqual([]);
  });
});
