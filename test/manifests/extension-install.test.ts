// The Component installs the UI extension from the project's own image: its init container
// unpacks the tar the image carries into argocd-server's /tmp/extensions/. Without a
// container runtime here, the test runs that init container's own command against the tar
// `npm run build` produces (the file the Dockerfile copies into the image), and checks that
// argocd-server would then find the bundle where it looks for extensions.
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { readObjects } from '../helpers/kustomize';
import { REPO_ROOT } from '../helpers/sidecar-process';

const TAR = join(REPO_ROOT, 'dist', 'extension', 'extension-anomaly.tar');
const BUNDLE = join(
  REPO_ROOT,
  'dist/extension/resources/extension-anomaly.js/extensions-anomaly.js',
);
/** Where the Dockerfile puts the tar in the image (WORKDIR /app, `extension/`). */
const IMAGE_TAR = '/app/extension/extension-anomaly.tar';

interface Container {
  name: string;
  image: string;
  command?: string[];
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

/**
 * server/server.go (*ArgoCDServer).serveExtensions walks /tmp/extensions/ and serves every
 * regular file whose name matches ^extension(.*)\.js$; returns those, relative to the root.
 */
function servedExtensions(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && /^extension(.*)\.js$/.test(name)) found.push(relative(root, path));
    }
  };
  walk(root);
  return found;
}

describe('installing the extension from the project image', () => {
  beforeAll(() => {
    if (!existsSync(TAR)) throw new Error('the extension is not built: run npm run build');
  });

  it("runs the init container from the sidecar image, unpacking the image's own tar", () => {
    const pod = componentPod();
    const init = pod.initContainers.find((c) => c.name === 'extension-anomaly')!;
    const sidecar = pod.containers.find((c) => c.name === 'extension-proxy')!;
    expect(init.image).toBe(sidecar.image);
    expect(init.command).toEqual(['tar', '-xf', IMAGE_TAR, '-C', '/tmp/extensions/']);
    expect(init.volumeMounts).toContainEqual({ name: 'extensions', mountPath: '/tmp/extensions/' });
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(runtime).toContain(
      'COPY --from=build /src/dist/extension/extension-anomaly.tar ' +
        '/src/dist/extension/extension-anomaly.tar.sha256 extension/',
    );
  });

  it('leaves the bundle where argocd-server serves it from', () => {
    const target = mkdtempSync(join(tmpdir(), 'extensions-'));
    try {
      const [command, ...args] = componentPod().initContainers[0].command!;
      execFileSync(
        command,
        args.map((a) => (a === IMAGE_TAR ? TAR : a === '/tmp/extensions/' ? target : a)),
      );
      expect(servedExtensions(target)).toEqual([
        'resources/extension-anomaly.js/extensions-anomaly.js',
      ]);
      expect(
        readFileSync(join(target, 'resources/extension-anomaly.js/extensions-anomaly.js')),
      ).toEqual(readFileSync(BUNDLE));
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});
