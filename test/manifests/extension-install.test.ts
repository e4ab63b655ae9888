// The Component installs the UI extension from the project's own image: its init container
// runs `install-extension`, which checks and unpacks the tar the image carries into
// argocd-server's /tmp/extensions/. Without a container runtime here, the test runs the
// built command with the init container's own arguments against the tar `npm run build`
// produces (the file the Dockerfile copies into the image), and checks what argocd-server
// would then serve, in its order.
import { spawnSync } from 'child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { extensionFiles } from '../../scripts/argocd-ui-host';
import { readObjects } from '../helpers/kustomize';
import { REPO_ROOT } from '../helpers/sidecar-process';

const TAR = join(REPO_ROOT, 'dist', 'extension', 'extension-anomaly.tar');
const BUNDLE = join(
  REPO_ROOT,
  'dist/extension/resources/extension-anomaly.js/extensions-anomaly.js',
);
const BIN = join(REPO_ROOT, 'proxy-server', 'bin', 'argocd-extension-proxy');

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

function componentPod(): { initContainers: Container[]; containers: Container[] } {
  const [patch] = readObjects(
    join(REPO_ROOT, 'manifests/components/extension-proxy/argocd-server-deployment.yaml'),
  );
  return (
    patch.spec as { template: { spec: { initContainers: Container[]; containers: Container[] } } }
  ).template.spec;
}

/** What argocd-server would serve from `root`, relative to it, in its order. */
function servedExtensions(root: string): string[] {
  return extensionFiles(root).map((path) => relative(root, path));
}

/** Runs the init container's arguments with the image's paths mapped to this checkout. */
function install(to: string, extra: string[] = [], env: Record<string, string> = {}) {
  const init = componentPod().initContainers.find((c) => c.name === 'extension-anomaly')!;
  const args = init.args!.map((a) => a.replace('--to=/tmp/extensions/', `--to=${to}`));
  return spawnSync(process.execPath, [BIN, ...args, ...extra], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('installing the extension from the project image', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(TAR)) throw new Error('the extension is not built: run npm run build');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'extensions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs install-extension from the sidecar's image, on the image's own tar", () => {
    const pod = componentPod();
    const init = pod.initContainers.find((c) => c.name === 'extension-anomaly')!;
    expect(init.image).toBe(pod.containers.find((c) => c.name === 'extension-proxy')!.image);
    expect(init.args).toEqual(['install-extension', '--to=/tmp/extensions/']);
    expect(init.volumeMounts).toContainEqual({ name: 'extensions', mountPath: '/tmp/extensions/' });
    // The command's default tar is <package root>/extension/: /app/extension in the image,
    // where the Dockerfile copies the release files.
    const help = spawnSync(process.execPath, [BIN, 'install-extension', '--help'], {
      encoding: 'utf8',
    });
    expect(help.stdout).toContain(
      `default ${join(REPO_ROOT, 'extension', 'extension-anomaly.tar')})`,
    );
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(runtime).toContain(
      'COPY --from=build /src/dist/extension/extension-anomaly.tar ' +
        '/src/dist/extension/extension-anomaly.tar.sha256 extension/',
    );
  });

  it('leaves the bundle where argocd-server serves it from', () => {
    const result = install(dir, [`--from=${TAR}`]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^installed extension-anomaly\.tar \(sha256 [0-9a-f]{64}\) into /,
    );
    expect(result.stdout).toContain('Anomalies tab on: the default kinds');
    expect(servedExtensions(dir)).toEqual(['resources/extension-anomaly.js/extensions-anomaly.js']);
    expect(readFileSync(join(dir, 'resources/extension-anomaly.js/extensions-anomaly.js'))).toEqual(
      readFileSync(BUNDLE),
    );
  });

  it('writes the chosen tab kinds in a script argocd-server loads before the bundle', () => {
    const result = install(dir, [`--from=${TAR}`], {
      ARGOCD_EXTENSION_PROXY_TAB_KINDS: 'apps/Deployment, Pod,argoproj.io/Rollout',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Anomalies tab on: apps/Deployment, Pod, argoproj.io/Rollout');
    expect(servedExtensions(dir)).toEqual([
      'resources/extension-anomaly.js/extension-anomaly-settings.js',
      'resources/extension-anomaly.js/extensions-anomaly.js',
    ]);
    const script = readFileSync(
      join(dir, 'resources/extension-anomaly.js/extension-anomaly-settings.js'),
      'utf8',
    );
    const window: Record<string, unknown> = {};
    new Function('window', script)(window);
    expect(window.argocdExtensionAnomaly).toEqual({
      kinds: [
        { group: 'apps', kind: 'Deployment' },
        { group: '', kind: 'Pod' },
        { group: 'argoproj.io', kind: 'Rollout' },
      ],
    });
    // Installed again without kinds (a restart after the setting was removed): the
    // settings are gone too.
    expect(install(dir, [`--from=${TAR}`]).status).toBe(0);
    expect(servedExtensions(dir)).toEqual(['resources/extension-anomaly.js/extensions-anomaly.js']);
  });

  it.each([
    ['apps/*', '"apps/*" is not group/Kind'],
    ['Apps/Deployment', '"Apps/Deployment" is not group/Kind'],
    ['apps/deployment', '"apps/deployment" is not group/Kind'],
    [',', 'no kinds given'],
  ])('refuses --tab-kinds %p (exit 2), installing nothing', (kinds, message) => {
    const result = install(dir, [`--from=${TAR}`, `--tab-kinds=${kinds}`]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a tar that does not match its checksum (exit 1), installing nothing', () => {
    const copy = join(dir, 'copy');
    rmSync(copy, { force: true });
    const src = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      const tar = join(src, 'extension-anomaly.tar');
      copyFileSync(TAR, tar);
      writeFileSync(`${tar}.sha256`, `${'0'.repeat(64)}  extension-anomaly.tar\n`);
      const result = install(dir, [`--from=${tar}`]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        'extension-anomaly.tar does not match extension-anomaly.tar.sha256: not installed',
      );
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
