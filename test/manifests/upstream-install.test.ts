import { existsSync } from 'fs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { renderExample, UPSTREAM_ARGOCD_INSTALL } from '../helpers/component-render';
import { K8sObject, readObjects } from '../helpers/kustomize';
import { describeWithKustomize } from './describe-with-kustomize';
import { NetworkPolicySpec, relayPortProblems } from '../helpers/network-policy';

interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface PodSpec {
  initContainers?: Array<{ name: string; volumeMounts?: Mount[] }>;
  containers: Array<{ name: string; volumeMounts?: Mount[] }>;
  volumes: Array<{ name: string }>;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function podSpec(objects: K8sObject[]): PodSpec {
  const server = find(objects, 'Deployment', 'argocd-server');
  return (server.spec as { template: { spec: PodSpec } }).template.spec;
}

const mounts = (spec: PodSpec, container: string): Mount[] =>
  spec.containers.find((c) => c.name === container)?.volumeMounts ?? [];

/**
 * manifests/examples against Argo CD's real install.yaml (v3.5.1, ../shared/fixtures), not
 * the stand-in: the Component's patches must land on upstream's own objects, merged with
 * what upstream already has.
 */
const upstreamPresent = existsSync(UPSTREAM_ARGOCD_INSTALL);
if (!upstreamPresent) {
  process.stdout.write(
    `skipping the example install against Argo CD v3.5.1: ${UPSTREAM_ARGOCD_INSTALL} is absent ` +
      '(../shared/fixtures, next to this repository)\n',
  );
}
(upstreamPresent ? describeWithKustomize : describe.skip)(
  "the example install on Argo CD v3.5.1's install.yaml",
  () => {
    let upstream: PodSpec;
    let objects: K8sObject[];
    beforeAll(() => {
      upstream = podSpec(readObjects(UPSTREAM_ARGOCD_INSTALL));
      objects = renderExample(UPSTREAM_ARGOCD_INSTALL);
    });

    it("puts the sidecar and the installer in upstream's argocd-server Deployment, once", () => {
      const spec = podSpec(objects);
      expect(spec.containers.map((c) => c.name)).toEqual(['argocd-server', 'extension-proxy']);
      expect((spec.initContainers ?? []).map((c) => c.name)).toEqual(['extension-anomaly']);
      expect(
        objects.filter((o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-server'),
      ).toHaveLength(1);
    });

    it("keeps every upstream volume and argocd-server mount, and adds the Component's", () => {
      const spec = podSpec(objects);
      const volumes = spec.volumes.map((v) => v.name);
      expect(volumes).toEqual(expect.arrayContaining(upstream.volumes.map((v) => v.name)));
      expect(mounts(spec, 'argocd-server')).toEqual(
        expect.arrayContaining(mounts(upstream, 'argocd-server')),
      );
      expect(mounts(spec, 'argocd-server').map((m) => m.mountPath)).toContain('/tmp/extensions/');
      expect(new Set(volumes).size).toBe(volumes.length);
    });

    it('mounts into the sidecar only volumes the pod has, all read-only', () => {
      const spec = podSpec(objects);
      const volumes = new Set(spec.volumes.map((v) => v.name));
      const sidecar = mounts(spec, 'extension-proxy');
      expect(sidecar.map((m) => m.mountPath)).toEqual([
        '/etc/argocd/argocd-cm',
        '/etc/argocd/argocd-rbac-cm',
        '/etc/argocd/argocd-secret',
        '/etc/argocd/server-tls',
        '/etc/argocd/extension-proxy-api-token',
        '/var/run/secrets/kubernetes.io/serviceaccount',
      ]);
      for (const m of [
        ...sidecar,
        ...(spec.initContainers ?? []).flatMap((c) => c.volumeMounts ?? []),
      ]) {
        expect({ mount: m.mountPath, volume: volumes.has(m.name) }).toEqual({
          mount: m.mountPath,
          volume: true,
        });
      }
      expect(sidecar.filter((m) => m.readOnly !== true)).toEqual([]);
    });

    it('adds the sidecar port to the Service and the relay rule to the NetworkPolicy', () => {
      const service = find(objects, 'Service', 'argocd-server');
      expect(service.spec).toMatchObject({
        ports: expect.arrayContaining([expect.objectContaining({ name: 'ext-proxy', port: 8090 })]),
      });
      const policy = find(objects, 'NetworkPolicy', 'argocd-server-network-policy');
      expect(relayPortProblems(policy.spec as NetworkPolicySpec)).toEqual([]);
      for (const [o, Model] of [
        [find(objects, 'Deployment', 'argocd-server'), Deployment],
        [service, Service],
        [policy, NetworkPolicy],
      ] as const) {
        expect(() => new Model(o as never).validate()).not.toThrow();
      }
    });
  },
);
