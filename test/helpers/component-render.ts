import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join, relative } from 'path';
import YAML from 'yaml';
import { K8sObject, renderKustomization } from './kustomize';
import { REPO_ROOT } from './sidecar-process';

const MANIFESTS = join(REPO_ROOT, 'manifests');
const EXAMPLES = join(MANIFESTS, 'examples');

/** A local stand-in for the parts of Argo CD's install.yaml the manifests patch. */
export const STANDIN_ARGOCD = join(REPO_ROOT, 'test', 'manifests', 'fixtures', 'argocd');

/** Argo CD's own install.yaml at v3.5.1, where ../shared has it (README there). */
export const UPSTREAM_ARGOCD_INSTALL = join(
  REPO_ROOT,
  '..',
  'shared',
  'fixtures',
  'argocd-install-v3.5.1.yaml',
);

interface Kustomization {
  resources?: string[];
  components?: string[];
  patches?: Array<{ path: string }>;
}

/**
 * Renders, with `kubectl kustomize`, a user's kustomization in a temporary directory: Argo
 * CD (`argocd`: a kustomization directory, or an install.yaml file) plus `resources` and
 * `components` (absolute paths) and the `patches` files. kustomize loads files only from
 * inside the kustomization's root, so the install file and the patches are copied there, as
 * a user's own patches would sit next to their kustomization.
 */
function renderUserKustomization(
  argocd: string,
  resources: string[],
  components: string[],
  patchFiles: string[],
): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'kustomization-'));
  try {
    const argocdIsDir = statSync(argocd).isDirectory();
    if (!argocdIsDir) copyFileSync(argocd, join(dir, basename(argocd)));
    const argocdEntry = argocdIsDir ? relative(dir, argocd) : basename(argocd);
    for (const patch of patchFiles) copyFileSync(patch, join(dir, basename(patch)));
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: 'argocd',
      resources: [argocdEntry, ...resources.map((r) => relative(dir, r))],
      components: components.map((c) => relative(dir, c)),
      patches: patchFiles.map((p) => ({ path: basename(p) })),
    };
    writeFileSync(join(dir, 'kustomization.yaml'), YAML.stringify(kustomization));
    return renderKustomization(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Argo CD (the local stand-in by default) + the extension-proxy Component + the named
 * patches (paths under manifests/examples).
 */
export function renderComponentWith(patchFiles: string[], argocd = STANDIN_ARGOCD): K8sObject[] {
  return renderUserKustomization(
    argocd,
    [],
    [join(MANIFESTS, 'components', 'extension-proxy')],
    patchFiles.map((p) => join(EXAMPLES, p)),
  );
}

/**
 * manifests/examples as an operator renders it, with its remote Argo CD install.yaml
 * replaced by `argocd` (the local stand-in by default) so rendering needs no network.
 */
export function renderExample(argocd = STANDIN_ARGOCD): K8sObject[] {
  const example = YAML.parse(
    readFileSync(join(EXAMPLES, 'kustomization.yaml'), 'utf8'),
  ) as Kustomization;
  return renderUserKustomization(
    argocd,
    (example.resources ?? []).filter((r) => !/^https?:\/\//.test(r)).map((r) => join(EXAMPLES, r)),
    (example.components ?? []).map((c) => join(EXAMPLES, c)),
    (example.patches ?? []).map((p) => join(EXAMPLES, p.path)),
  );
}
