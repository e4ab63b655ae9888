import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NODE_FLAGS } from '../../proxy-server/src/node-flags';
import { renderExample } from '../helpers/component-render';
import { K8sObject, readObjects, renderKustomization } from '../helpers/kustomize';
import { NetworkPolicySpec, relayPortProblems } from '../helpers/network-policy';
import { REPO_ROOT } from '../helpers/sidecar-process';
import { describeWithKustomize } from './describe-with-kustomize';

const MANIFESTS = join(REPO_ROOT, 'manifests');

const VALIDATORS: Record<string, new (o: object) => { validate(): void }> = {
  Deployment,
  Service,
  ConfigMap,
  Secret,
  Namespace,
  Ingress,
  NetworkPolicy,
  PodDisruptionBudget,
};

/** Policy every object we ship must meet; returns the violations (the tests expect none). */
export function policyViolations(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'Deployment') continue;
    const spec = (o.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const containers = [
      ...((spec.initContainers as Array<Record<string, unknown>>) ?? []),
      ...((spec.containers as Array<Record<string, unknown>>) ?? []),
    ];
    for (const c of containers) {
      const where = `${o.metadata.name}/${String(c.name)}`;
      // Upstream's own containers are Argo CD's business.
      if (c.name === 'argocd-server') continue;
      const image = String(c.image ?? '');
      if (!/:[\w][\w.-]*$/.test(image) || image.endsWith(':latest')) {
        problems.push(`${where}: image "${image}" is not pinned to a version`);
      }
      const resources = c.resources as { requests?: object; limits?: object } | undefined;
      if (!resources?.requests || !resources?.limits) problems.push(`${where}: resources not set`);
      const sc = (c.securityContext ?? {}) as Record<string, unknown>;
      if (sc.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
      if (sc.readOnlyRootFilesystem !== true)
        problems.push(`${where}: root filesystem is writable`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: privilege escalation allowed`);
      const drop = ((sc.capabilities as { drop?: string[] } | undefined)?.drop ?? []).join(',');
      if (drop !== 'ALL') problems.push(`${where}: capabilities not dropped`);
      if ((sc.seccompProfile as { type?: string } | undefined)?.type !== 'RuntimeDefault') {
        problems.push(`${where}: seccomp profile is not RuntimeDefault`);
      }
    }
    // The sidecar reads argocd-secret through an explicit key list, never the whole Secret.
    for (const v of (spec.volumes as Array<Record<string, unknown>>) ?? []) {
      const secret = v.secret as { secretName?: string; items?: unknown[] } | undefined;
      if (secret?.secretName === 'argocd-secret' && !(secret.items && secret.items.length > 0)) {
        problems.push(`${o.metadata.name}: volume ${String(v.name)} mounts all of argocd-secret`);
      }
    }
  }
  return problems;
}

/** manifests/ rendered as an operator renders it (Argo CD's install as the local stand-in). */
const rendered = (): Record<string, K8sObject[]> => ({
  install: renderExample(),
  'anomaly-backend': renderKustomization(join(MANIFESTS, 'anomaly-backend')),
  delegate: renderKustomization(join(MANIFESTS, 'delegate')),
});

describeWithKustomize('the rendered manifests', () => {
  let all: Record<string, K8sObject[]>;
  beforeAll(() => {
    all = rendered();
  });

  it('renders the example install: Argo CD patched with the sidecar, the extension, the backend', () => {
    const byKey = new Map(all.install.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const server = byKey.get('Deployment/argocd-server')!;
    const spec = (
      server.spec as { template: { spec: Record<string, Array<Record<string, unknown>>> } }
    ).template.spec;
    expect(spec.containers.map((c) => c.name)).toEqual(['argocd-server', 'extension-proxy']);
    expect(spec.initContainers.map((c) => c.name)).toEqual(['extension-anomaly']);
    // The extension comes from the sidecar's own image (extension-install.test.ts runs it).
    const installer = spec.initContainers[0] as { image: string; args: string[] };
    expect(installer.image).toBe(spec.containers[1].image);
    expect(installer.args[0]).toBe('install-extension');
    // argocd-server serves the installed bundle from the shared volume.
    expect(
      (spec.containers[0].volumeMounts as Array<{ mountPath: string }>).map((m) => m.mountPath),
    ).toContain('/tmp/extensions/');
    const sidecar = spec.containers[1] as {
      readinessProbe: { httpGet: { port: number } };
      volumeMounts: Array<{ readOnly?: boolean }>;
    };
    expect(sidecar.readinessProbe.httpGet.port).toBe(8091);
    expect(sidecar.volumeMounts.every((m) => m.readOnly === true)).toBe(true);
    expect(byKey.get('Service/argocd-server')!.spec).toMatchObject({
      ports: expect.arrayContaining([expect.objectContaining({ name: 'ext-proxy', port: 8090 })]),
    });
    const ingress = byKey.get('Ingress/argocd-extension-proxy')!;
    expect(JSON.stringify(ingress.spec)).toContain('"path":"/extensions/"');
    expect(byKey.has('Deployment/anomaly-backend')).toBe(true);
    expect(byKey.has('PodDisruptionBudget/anomaly-backend')).toBe(true);
    expect(all.install.every((o) => o.metadata.namespace === 'argocd')).toBe(true);
  });

  it('validates every object against the Kubernetes schemas (kubernetes-models)', () => {
    let count = 0;
    for (const objects of Object.values(all)) {
      for (const o of objects) {
        const Model = VALIDATORS[o.kind];
        expect(Model).toBeDefined();
        expect(() => new Model(o).validate()).not.toThrow();
        count++;
      }
    }
    expect(count).toBe(20); // every object of every kustomization rendered above
    // The validator is not a rubber stamp.
    expect(() =>
      new Deployment({
        metadata: { name: 'x' },
        spec: {
          selector: {},
          template: { spec: { containers: [{ name: 'a', ports: [{ containerPort: 'http' }] }] } },
        },
      } as never).validate(),
    ).toThrow();
  });

  it('meets the policy: pinned images, resources, non-root, read-only root, no capabilities, seccomp, secret keys listed', () => {
    for (const [name, objects] of Object.entries(all)) {
      expect({ name, problems: policyViolations(objects) }).toEqual({ name, problems: [] });
    }
    // Each rule can fail: a deliberately bad Deployment trips every one of them.
    const bad = readObjects(join(MANIFESTS, 'anomaly-backend', 'deployment.yaml'))[0];
    const container = (
      bad.spec as {
        template: { spec: { containers: Array<Record<string, unknown>>; volumes?: unknown[] } };
      }
    ).template.spec;
    container.containers[0] = { name: 'x', image: 'node:latest' };
    container.volumes = [{ name: 's', secret: { secretName: 'argocd-secret' } }];
    expect(policyViolations([bad])).toEqual([
      'anomaly-backend/x: image "node:latest" is not pinned to a version',
      'anomaly-backend/x: resources not set',
      'anomaly-backend/x: runAsNonRoot is not true',
      'anomaly-backend/x: root filesystem is writable',
      'anomaly-backend/x: privilege escalation allowed',
      'anomaly-backend/x: capabilities not dropped',
      'anomaly-backend/x: seccomp profile is not RuntimeDefault',
      'anomaly-backend: volume s mounts all of argocd-secret',
    ]);
  });

  it('closes the relay port to everything but argocd-server pods, and the backend to all but the sidecar', () => {
    const policies = all.install.filter((o) => o.kind === 'NetworkPolicy');
    const server = policies.filter((p) => p.metadata.name === 'argocd-server-network-policy');
    expect(server).toHaveLength(1);
    expect(relayPortProblems(server[0].spec as NetworkPolicySpec)).toEqual([]);
    const backend = policies.find((p) => p.metadata.name === 'anomaly-backend')!;
    expect(JSON.stringify(backend.spec)).toContain('"app.kubernetes.io/name":"argocd-server"');
  });
});

describe('manifests', () => {
  it('gives the Helm values the same sidecar, installer and volumes as the kustomize Component', () => {
    const values = YAML.parse(readFileSync(join(MANIFESTS, 'helm', 'values.yaml'), 'utf8')) as {
      server: Record<string, Array<Record<string, unknown>>>;
    };
    const patch = readObjects(
      join(MANIFESTS, 'components', 'extension-proxy', 'argocd-server-deployment.yaml'),
    )[0];
    const spec = (
      patch.spec as { template: { spec: Record<string, Array<Record<string, unknown>>> } }
    ).template.spec;
    expect(values.server.extraContainers).toEqual(
      spec.containers.filter((c) => c.name !== 'argocd-server'),
    );
    expect(values.server.initContainers).toEqual(spec.initContainers);
    expect(values.server.volumes).toEqual(spec.volumes);
    expect(values.server.volumeMounts).toEqual(spec.containers[0].volumeMounts);
  });

  it('builds a lean, non-root image: pinned bases, no dev dependencies, no tests', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBe(2);
    for (const image of froms) expect(image).toMatch(/^node:\d+\.\d+\.\d+-[\w-]+$/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toMatch(/^USER (?!0|root)\S+/m);
    expect(runtime).not.toMatch(/COPY .*\btest\b/);
    expect(runtime).not.toMatch(/COPY .*dist\/(test|scripts)/);
    expect(runtime).not.toMatch(/COPY \. /);
    // The image runs with the V8 flags every test, benchmark and soak run uses.
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtime);
    expect(JSON.parse(entrypoint?.[1] ?? '[]')).toEqual([
      'node',
      ...NODE_FLAGS,
      'proxy-server/bin/argocd-extension-proxy',
    ]);
  });

  it('has no manifest file that no kustomization renders', () => {
    const listed = new Set<string>();
    for (const dir of ['components/extension-proxy', 'anomaly-backend', 'delegate', 'examples']) {
      const k = YAML.parse(readFileSync(join(MANIFESTS, dir, 'kustomization.yaml'), 'utf8')) as {
        resources?: string[];
        patches?: Array<{ path: string }>;
      };
      for (const r of k.resources ?? []) listed.add(join(dir, r));
      for (const p of k.patches ?? []) listed.add(join(dir, p.path));
    }
    for (const dir of ['components/extension-proxy', 'anomaly-backend', 'delegate', 'examples']) {
      for (const f of readdirSync(join(MANIFESTS, dir))) {
        if (f.endsWith('.yaml') && f !== 'kustomization.yaml')
          expect(listed).toContain(join(dir, f));
      }
    }
  });
});
