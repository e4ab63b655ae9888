import { readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { createEnforcer } from '../../proxy-server/src/rbac/enforcer';
import { parseRbacConfigMap } from '../../proxy-server/src/rbac/rbac-config';
import { renderComponentWith } from '../helpers/component-render';
import { K8sObject, readObjects } from '../helpers/kustomize';
import { describeWithKustomize } from './describe-with-kustomize';
import { REPO_ROOT } from '../helpers/sidecar-process';

const MANIFESTS = join(REPO_ROOT, 'manifests');
const COMPONENT = join(MANIFESTS, 'components', 'extension-proxy');
const ACCOUNT = 'extension-proxy';
const TOKEN_SECRET = 'argocd-extension-proxy-api-token';

/** Argo CD (the local stand-in) + the Component + the example argocd-cm and policy patches. */
function render(): K8sObject[] {
  return renderComponentWith(['argocd-cm-extensions.yaml', 'argocd-rbac-cm-policy.yaml']);
}

function configMap(objects: K8sObject[], name: string): Record<string, string> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
  return (cm?.data as Record<string, string> | undefined) ?? {};
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  secret?: { secretName: string; optional?: boolean; items?: Array<{ key: string; path: string }> };
}

/**
 * The destination check's account, as installed: declared in argocd-cm, granted exactly
 * `projects, get` and `clusters, get` in a policy key of its own, and its token mounted from
 * an optional Secret at the path the sidecar reads.
 */
describeWithKustomize("the extension proxy's Argo CD account", () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render();
  });

  it('is declared in argocd-cm with API keys only, next to the keys the admin patches in', () => {
    const cm = configMap(objects, 'argocd-cm');
    expect(cm[`accounts.${ACCOUNT}`]).toBe('apiKey');
    // A patch that adds keys: the example's extension.config survives it.
    expect(Object.keys(cm)).toEqual(expect.arrayContaining(['extension.config.anomaly']));
  });

  it("may get projects and clusters and nothing else, without touching the admin's policy.csv", async () => {
    const data = configMap(objects, 'argocd-rbac-cm');
    expect(data['policy.csv']).toContain('p, role:admin, extensions, invoke, *, allow');
    const { config, problems } = await parseRbacConfigMap(data);
    expect(problems).toEqual([]);
    const who = { subject: ACCOUNT, groups: [] };
    const may = async (resource: string, action: string, object: string) =>
      (await createEnforcer(config!, { resource, action })).canInvoke(who, object);
    expect(await may('projects', 'get', 'default')).toBe(true);
    expect(await may('projects', 'get', 'team-a')).toBe(true);
    // CreateClusterRBACObject: `<server>`, or `<project>/<server>` for a project-scoped cluster.
    expect(await may('clusters', 'get', 'https://kubernetes.default.svc')).toBe(true);
    expect(await may('clusters', 'get', 'team-a/https://prod.example.com')).toBe(true);
    for (const [resource, action, object] of [
      ['applications', 'get', 'default/guestbook'],
      ['applications', 'sync', 'default/guestbook'],
      ['projects', 'update', 'default'],
      ['clusters', 'update', 'https://kubernetes.default.svc'],
      ['accounts', 'update', ACCOUNT],
      ['extensions', 'invoke', 'anomaly'],
    ]) {
      expect([resource, action, await may(resource, action, object)]).toEqual([
        resource,
        action,
        false,
      ]);
    }
  });

  it('gives the sidecar its token from an optional Secret, at the path --argocd-token-file names', () => {
    const server = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-server',
    )!;
    const spec = (
      server.spec as { template: { spec: { containers: Container[]; volumes: Volume[] } } }
    ).template.spec;
    const sidecar = spec.containers.find((c) => c.name === 'extension-proxy')!;
    const file = sidecar.env?.find(
      (e) => e.name === 'ARGOCD_EXTENSION_PROXY_ARGOCD_TOKEN_FILE',
    )?.value;
    expect(file).toBe('/etc/argocd/extension-proxy-api-token/token');
    const mount = sidecar.volumeMounts!.find((m) => file!.startsWith(`${m.mountPath}/`))!;
    expect(mount.readOnly).toBe(true);
    const volume = spec.volumes.find((v) => v.name === mount.name)!;
    expect(volume.secret).toEqual({
      secretName: TOKEN_SECRET,
      // The pod (argocd-server with it) starts before the admin creates the token.
      optional: true,
      items: [{ key: 'token', path: file!.slice(mount.mountPath.length + 1) }],
    });
    // Only the sidecar sees it.
    for (const c of spec.containers.filter((x) => x.name !== 'extension-proxy')) {
      expect((c.volumeMounts ?? []).map((m) => m.name)).not.toContain(mount.name);
    }
  });

  it('is the same in the Helm values', () => {
    const values = YAML.parse(readFileSync(join(MANIFESTS, 'helm', 'values.yaml'), 'utf8')) as {
      configs: { cm: Record<string, string>; rbac: Record<string, string> };
    };
    const [cmPatch] = readObjects(join(COMPONENT, 'argocd-cm-account.yaml'));
    const [rbacPatch] = readObjects(join(COMPONENT, 'argocd-rbac-cm-account.yaml'));
    for (const [key, value] of Object.entries(cmPatch.data as Record<string, string>)) {
      expect(values.configs.cm[key]).toBe(value);
    }
    for (const [key, value] of Object.entries(rbacPatch.data as Record<string, string>)) {
      expect(values.configs.rbac[key]).toBe(value);
    }
  });
});
