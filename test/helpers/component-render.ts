import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import YAML from 'yaml';
import { K8sObject, renderKustomization } from './kustomize-lite';
import { REPO_ROOT } from './sidecar-process';

const MANIFESTS = join(REPO_ROOT, 'manifests');
const FIXTURE_ARGOCD = join(REPO_ROOT, 'test', 'manifests', 'fixtures', 'argocd');

/**
 * Renders Argo CD (the local stand-in) + the extension-proxy Component + the named patches
 * of manifests/examples, as a user's kustomization next to Argo CD's install would.
 */
export function renderComponentWith(patchFiles: string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'component-'));
  try {
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: 'argocd',
      resources: [relative(dir, FIXTURE_ARGOCD)],
      components: [relative(dir, join(MANIFESTS, 'components', 'extension-proxy'))],
      patches: patchFiles.map((p) => ({ path: relative(dir, join(MANIFESTS, 'examples', p)) })),
    };
    writeFileSync(join(dir, 'kustomization.yaml'), YAML.stringify(kustomization));
    return renderKustomization(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
