// One version, in package.json: every image tag, release URL and `?ref=` the project ships
// or documents names it, so a release changes one line and this test finds the rest.
import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';
import { REPO_ROOT } from '../helpers/sidecar-process';

const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** Files that name the version: manifests, docs, the Dockerfile, READMEs. */
function shippedFiles(): string[] {
  const files = ['Dockerfile', 'README.md', 'CONTRIBUTING.md'];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(REPO_ROOT, dir))) {
      const path = join(dir, name);
      if (statSync(join(REPO_ROOT, path)).isDirectory()) walk(path);
      else if (/\.(ya?ml|md)$/.test(name)) files.push(path);
    }
  };
  for (const dir of ['manifests', 'docs', 'extension', 'backends/anomaly-detection']) {
    walk(dir);
  }
  return files.filter((f) => !f.includes('node_modules'));
}

const PATTERNS: Array<[string, RegExp]> = [
  ['image tag', /ghcr\.io\/argocd-extension-proxy\/argocd-extension-proxy:([\w.-]+)/g],
  ['release download', /releases\/download\/v([\w.-]+)\//g],
  ['kustomize ref', /\?ref=v([\w.-]+)/g],
  ['release name', /\brelease `v([\d.]+)`/g],
  ['installer version', /EXTENSION_VERSION, value: ([\w.-]+)/g],
];

describe('the version', () => {
  it('is a semantic version in package.json and package-lock.json', () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      version: string;
      packages: Record<string, { version?: string }>;
    };
    expect([lock.version, lock.packages[''].version]).toEqual([VERSION, VERSION]);
  });

  it('is the one every manifest, Helm value, doc and the Dockerfile name', () => {
    const mentions: string[] = [];
    const wrong: string[] = [];
    for (const file of shippedFiles()) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const [what, pattern] of PATTERNS) {
        for (const match of text.matchAll(pattern)) {
          const where = `${relative(REPO_ROOT, join(REPO_ROOT, file))}: ${what} ${match[1]}`;
          mentions.push(where);
          if (match[1] !== VERSION) wrong.push(where);
        }
      }
    }
    expect(wrong).toEqual([]);
    // The places a release must update are all found (not a check that finds nothing).
    expect(mentions).toEqual(
      expect.arrayContaining([
        'Dockerfile: image tag ' + VERSION,
        'manifests/components/extension-proxy/argocd-server-deployment.yaml: image tag ' + VERSION,
        'manifests/helm/values.yaml: image tag ' + VERSION,
        'manifests/anomaly-backend/deployment.yaml: image tag ' + VERSION,
        'manifests/delegate/deployment.yaml: image tag ' + VERSION,
        'README.md: kustomize ref ' + VERSION,
        'docs/install.md: installer version ' + VERSION,
        'docs/install.md: release download ' + VERSION,
      ]),
    );
  });
});
