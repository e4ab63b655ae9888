import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import YAML from 'yaml';

/** A rendered or read Kubernetes object, typed as far as the tests rely on it. */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
};

/** A render takes well under a second; the bound keeps a hung kubectl from hanging jest. */
const KUBECTL_TIMEOUT_MS = 30_000;

/** Argo CD's install.yaml alone renders to several MB. */
const KUBECTL_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function parseObjects(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function readObjects(path: string): K8sObject[] {
  return parseObjects(readFileSync(path, 'utf8'));
}

/** `kubectl kustomize <dir>`: the objects an operator's `kubectl apply -k` would send. */
export function renderKustomization(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], {
    encoding: 'utf8',
    timeout: KUBECTL_TIMEOUT_MS,
    maxBuffer: KUBECTL_MAX_OUTPUT_BYTES,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseObjects(out);
}

let unavailable: string | null | undefined;

/**
 * Why `kubectl kustomize` cannot render this project's manifests here, or null when it can:
 * renders a one-object kustomization with a Component patch, the feature the manifests use.
 */
export function kustomizeUnavailableReason(): string | null {
  if (unavailable !== undefined) return unavailable;
  const dir = mkdtempSync(join(tmpdir(), 'kustomize-probe-'));
  try {
    mkdirSync(join(dir, 'component'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'resources: [cm.yaml]\ncomponents: [component]\n',
    );
    writeFileSync(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    writeFileSync(
      join(dir, 'component', 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{path: p.yaml}]\n',
    );
    writeFileSync(
      join(dir, 'component', 'p.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: v}\n',
    );
    const run = spawnSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      timeout: KUBECTL_TIMEOUT_MS,
    });
    if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      unavailable = 'kubectl is not on PATH';
    } else if (run.error) {
      unavailable = `kubectl kustomize did not run: ${run.error.message}`;
    } else if (run.status !== 0 || !run.stdout.includes('k: v')) {
      const why = (run.stderr || run.stdout).trim().split('\n')[0];
      unavailable = `kubectl kustomize cannot render a Component (${why})`;
    } else {
      unavailable = null;
    }
    return unavailable;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
