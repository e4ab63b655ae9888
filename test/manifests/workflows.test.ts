// The GitHub Actions workflows cannot run here; this checks what they promise: pull
// requests and releases run .ci/run (the same CI as every stop), a release refuses a tag
// that is not package.json's version, and it publishes the files the manifests name.
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import YAML from 'yaml';
import { REPO_ROOT } from '../helpers/sidecar-process';

interface Step {
  uses?: string;
  run?: string;
  id?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { needs?: string | string[]; container?: unknown; steps: Step[] }>;
}

function workflow(name: string): Workflow {
  return YAML.parse(
    readFileSync(join(REPO_ROOT, '.github', 'workflows', name), 'utf8'),
  ) as Workflow;
}

const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

describe('the GitHub Actions workflows', () => {
  it('runs .ci/run with CI=true on pull requests, in a Debian image', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on)).toEqual(['pull_request', 'push']);
    const steps = ci.jobs.test.steps;
    expect(steps.find((s) => s.run === 'bash .ci/run')?.env).toEqual({ CI: 'true' });
    expect(ci.jobs.test.container).toEqual({ image: 'node:20-bookworm', options: '--privileged' });
  });

  it("releases only a tag equal to package.json's version, after .ci/run", () => {
    const release = workflow('release.yml');
    expect(release.on).toEqual({ push: { tags: ['v*'] } });
    const [check, ci] = release.jobs.test.steps.slice(1);
    expect(ci.run).toBe('bash .ci/run');
    // Run the tag check as the workflow would, with a matching and a wrong tag.
    const run = (tag: string) =>
      execFileSync('bash', ['-ec', check.run!], {
        cwd: REPO_ROOT,
        env: { ...process.env, GITHUB_REF_NAME: tag },
        stdio: 'pipe',
      });
    expect(() => run(`v${VERSION}`)).not.toThrow();
    expect(() => run(`v${VERSION}.1`)).toThrow(/does not match package.json/);
    expect(release.jobs.image.needs).toBe('test');
    expect(release.jobs.release.needs).toBe('image');
  });

  it('pushes the multi-arch image the manifests name and attaches the extension tar', () => {
    const release = workflow('release.yml');
    const build = release.jobs.image.steps.find((s) => s.uses?.startsWith('docker/build-push'));
    expect(build?.with).toMatchObject({ platforms: 'linux/amd64,linux/arm64', push: true });
    expect(build?.with?.tags).toBe(
      'ghcr.io/argocd-extension-proxy/argocd-extension-proxy:${{ steps.version.outputs.version }}',
    );
    const version = release.jobs.image.steps.find((s) => s.id === 'version')!;
    const output = join(mkdtempSync(join(tmpdir(), 'gh-output-')), 'out');
    try {
      execFileSync('bash', ['-ec', version.run!], {
        env: { ...process.env, GITHUB_REF_NAME: `v${VERSION}`, GITHUB_OUTPUT: output },
      });
      expect(readFileSync(output, 'utf8')).toBe(`version=${VERSION}\n`);
    } finally {
      rmSync(dirname(output), { recursive: true, force: true });
    }
    const publish = release.jobs.release.steps.map((s) => s.run ?? '').join('\n');
    expect(publish).toContain('npm run build:extension');
    expect(publish).toContain(
      'dist/extension/extension-anomaly.tar dist/extension/extension-anomaly.tar.sha256',
    );
  });
});
