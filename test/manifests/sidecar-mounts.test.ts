import { renderComponentWith } from '../helpers/component-render';
import { K8sObject } from '../helpers/kustomize';
import { describeWithKustomize } from './describe-with-kustomize';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SIDECAR = 'extension-proxy';

interface Mount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}
interface Volume {
  name: string;
  emptyDir?: object;
  secret?: { secretName: string; items?: Array<{ key: string }> };
  configMap?: { name: string };
}
interface Container {
  name: string;
  volumeMounts?: Mount[];
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes: Volume[];
}

function podSpec(objects: K8sObject[]): PodSpec {
  const server = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-server',
  );
  return (server!.spec as { template: { spec: PodSpec } }).template.spec;
}

function argocdCm(objects: K8sObject[]): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cm');
  return (cm?.data as Record<string, string> | undefined) ?? {};
}

/**
 * The argocd-secret keys the sidecar needs for this argocd-cm: the session signing key, each
 * `$key` a configured header names, each `delegate.<name>.token` a service routes through.
 */
function neededSecretKeys(cm: Record<string, string>): string[] {
  const keys = new Set(['server.secretkey']);
  for (const [key, text] of Object.entries(cm)) {
    if (key !== 'extension.config' && !key.startsWith('extension.config.')) continue;
    for (const m of text.matchAll(/value:\s*['"]?\$([\w.-]+)/g)) keys.add(m[1]);
    for (const m of text.matchAll(/delegate:\s*['"]?([\w-]+)/g)) keys.add(`delegate.${m[1]}.token`);
  }
  return [...keys].sort();
}

/** Everything wrong with what the sidecar (and the init container) can read. */
function mountProblems(spec: PodSpec, cm: Record<string, string>): string[] {
  const problems: string[] = [];
  const volumes = new Map(spec.volumes.map((v) => [v.name, v]));
  const sidecar = spec.containers.find((c) => c.name === SIDECAR);
  if (!sidecar) return [`no ${SIDECAR} container`];
  for (const c of [...(spec.initContainers ?? []), sidecar]) {
    const mask = c.volumeMounts?.find((m) => m.mountPath === SERVICE_ACCOUNT_DIR);
    if (!mask || !volumes.get(mask.name)?.emptyDir) {
      problems.push(`${c.name}: the service account token is not masked`);
    }
  }
  for (const mount of sidecar.volumeMounts ?? []) {
    if (mount.readOnly !== true) problems.push(`${SIDECAR}: ${mount.mountPath} is writable`);
    const secret = volumes.get(mount.name)?.secret;
    if (!secret) continue;
    const keys = (secret.items ?? []).map((i) => i.key).sort();
    const expected =
      secret.secretName === 'argocd-secret'
        ? neededSecretKeys(cm)
        : secret.secretName === 'argocd-server-tls'
          ? ['tls.crt']
          : secret.secretName === 'argocd-extension-proxy-api-token'
            ? ['token']
            : [];
    if (JSON.stringify(keys) !== JSON.stringify(expected)) {
      problems.push(
        `${SIDECAR}: Secret ${secret.secretName} gives keys ${JSON.stringify(keys)}, needs ${JSON.stringify(expected)}`,
      );
    }
  }
  return problems;
}

describeWithKustomize('what the sidecar can read', () => {
  it.each([
    ['the Component alone', []],
    [
      'the example install (a delegate service, its token listed)',
      ['argocd-cm-extensions.yaml', 'argocd-server-secret-keys.yaml'],
    ],
  ])(
    'mounts only the keys it needs, read-only, without a service account token: %s',
    (_n, patches) => {
      const objects = renderComponentWith(patches);
      expect(mountProblems(podSpec(objects), argocdCm(objects))).toEqual([]);
    },
  );

  it('takes its namespace from the downward API, since the service account directory is empty', () => {
    const sidecar = podSpec(renderComponentWith([])).containers.find(
      (c) => c.name === SIDECAR,
    ) as unknown as {
      env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
    };
    const env = sidecar.env.find((e) => e.name === 'ARGOCD_EXTENSION_PROXY_NAMESPACE');
    expect(env?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
  });

  it.each<[string, (spec: PodSpec) => void, string]>([
    [
      'the whole of argocd-secret',
      (s) => delete s.volumes.find((v) => v.name === 'ext-proxy-argocd-secret')!.secret!.items,
      'Secret argocd-secret gives keys []',
    ],
    [
      'a key it does not need',
      (s) =>
        s.volumes
          .find((v) => v.name === 'ext-proxy-argocd-secret')!
          .secret!.items!.push({ key: 'admin.password' }),
      'admin.password',
    ],
    [
      'a writable mount',
      (s) => (s.containers.find((c) => c.name === SIDECAR)!.volumeMounts![0].readOnly = false),
      'is writable',
    ],
    [
      'the service account token',
      (s) => {
        const c = s.containers.find((x) => x.name === SIDECAR)!;
        c.volumeMounts = c.volumeMounts!.filter((m) => m.mountPath !== SERVICE_ACCOUNT_DIR);
      },
      `${SIDECAR}: the service account token is not masked`,
    ],
    [
      'the token to the installer',
      (s) => (s.initContainers![0].volumeMounts = []),
      'extension-anomaly: the service account token is not masked',
    ],
  ])('catches a sidecar that can read %s', (_n, breakIt, expected) => {
    const objects = renderComponentWith([]);
    const spec = podSpec(objects);
    breakIt(spec);
    expect(mountProblems(spec, argocdCm(objects)).join('\n')).toContain(expected);
  });

  it('catches a delegate token that extension.config needs but the volume does not list', () => {
    // The example argocd-cm routes a service through delegate "onprem"; without the example's
    // key list the sidecar could not authenticate that agent.
    const objects = renderComponentWith(['argocd-cm-extensions.yaml']);
    expect(mountProblems(podSpec(objects), argocdCm(objects)).join('\n')).toContain(
      'delegate.onprem.token',
    );
  });
});
