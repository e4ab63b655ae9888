import { existsSync, readFileSync, statSync } from 'fs';
import { dirname, join, resolve } from 'path';
import YAML from 'yaml';

/**
 * The subset of kustomize the project's manifests use, in plain TypeScript, so they can be
 * rendered and checked without kubectl: `resources` (files and directories), `components`
 * (Component: its resources and patches apply to what was accumulated), strategic-merge
 * `patches` (matched by kind and name) and `namespace`. Lists merge by the same keys as
 * Kubernetes' strategic merge for the fields used here (containers, volumes and env by
 * name, volumeMounts by mountPath, container ports by containerPort, service ports by port);
 * any other list is replaced, as it is for fields without a merge key.
 */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
};

type Obj = Record<string, unknown>;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);

export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`);
  const k = YAML.parse(readFileSync(file, 'utf8')) as Obj;
  let objects: K8sObject[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    if (/^https?:\/\//.test(entry))
      throw new Error(`${file}: remote resource ${entry} needs network`);
    const path = resolve(dir, entry);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readObjects(path)));
  }
  for (const component of (k.components as string[] | undefined) ?? []) {
    const cdir = resolve(dir, component);
    const c = YAML.parse(readFileSync(join(cdir, 'kustomization.yaml'), 'utf8')) as Obj;
    if (c.kind !== 'Component') throw new Error(`${cdir}: not a Component`);
    for (const entry of (c.resources as string[] | undefined) ?? []) {
      objects.push(...readObjects(resolve(cdir, entry)));
    }
    objects = applyPatches(objects, (c.patches as Array<{ path: string }> | undefined) ?? [], cdir);
  }
  objects = applyPatches(objects, (k.patches as Array<{ path: string }> | undefined) ?? [], dir);
  if (typeof k.namespace === 'string') {
    for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

export function readObjects(path: string): K8sObject[] {
  return YAML.parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function applyPatches(
  objects: K8sObject[],
  patches: Array<{ path: string }>,
  dir: string,
): K8sObject[] {
  for (const { path } of patches) {
    for (const patch of readObjects(resolve(dir, path))) {
      const target = objects.find(
        (o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name,
      );
      if (!target) {
        throw new Error(
          `${join(dirname(resolve(dir, path)), path)}: no ${patch.kind} ${patch.metadata.name} to patch`,
        );
      }
      merge(target, patch, '');
    }
  }
  return objects;
}

const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
};

function mergeKey(field: string, path: string): string | undefined {
  if (field === 'ports')
    return path.toLowerCase().includes('containers') ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

function merge(target: Obj, patch: Obj, path: string): void {
  for (const [field, value] of Object.entries(patch)) {
    const current = target[field];
    const key = mergeKey(field, path);
    if (Array.isArray(value) && Array.isArray(current) && key) {
      for (const item of value as Obj[]) {
        const existing = (current as Obj[]).find((c) => c[key] === item[key]);
        if (existing) merge(existing, item, `${path}.${field}`);
        else current.push(item);
      }
    } else if (isObj(value) && isObj(current)) {
      merge(current, value, `${path}.${field}`);
    } else {
      target[field] = value;
    }
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
