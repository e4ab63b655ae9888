import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  readdirSync,
} from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * A directory laid out exactly like a Kubernetes ConfigMap/Secret volume: the data lives in
 * `..<timestamp>/`, `..data` points at it, and each key is a symlink through `..data`.
 * `update` swaps `..data` atomically, as the kubelet does.
 */
export class MountedDir {
  readonly path: string;
  private version = 0;

  constructor(data: Record<string, string | Buffer>, parent?: string) {
    this.path = mkdtempSync(join(parent ?? tmpdir(), 'mounted-'));
    this.write(data);
  }

  update(data: Record<string, string | Buffer>): void {
    this.write(data);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  private write(data: Record<string, string | Buffer>): void {
    const versionDir = `..${Date.now()}_${this.version++}`;
    mkdirSync(join(this.path, versionDir));
    for (const [key, value] of Object.entries(data))
      writeFileSync(join(this.path, versionDir, key), value);
    const tmpLink = join(this.path, '..data_tmp');
    symlinkSync(versionDir, tmpLink);
    renameSync(tmpLink, join(this.path, '..data'));
    const keys = new Set(Object.keys(data));
    for (const name of readdirSync(this.path)) {
      if (name.startsWith('.')) continue;
      if (!keys.has(name)) rmSync(join(this.path, name));
    }
    for (const key of keys) {
      try {
        symlinkSync(join('..data', key), join(this.path, key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    for (const name of readdirSync(this.path)) {
      if (name.startsWith('..') && name !== '..data' && name !== versionDir) {
        rmSync(join(this.path, name), { recursive: true, force: true });
      }
    }
  }
}

/** The three mounted objects of one Argo CD installation. */
export class ArgoCDConfig {
  readonly root: string;
  readonly cm: MountedDir;
  readonly rbac: MountedDir;
  readonly secret: MountedDir;

  constructor(config: {
    cm: Record<string, string>;
    rbac: Record<string, string>;
    secret: Record<string, string | Buffer>;
  }) {
    this.root = mkdtempSync(join(tmpdir(), 'argocd-config-'));
    this.cm = new MountedDir(config.cm, this.root);
    this.rbac = new MountedDir(config.rbac, this.root);
    this.secret = new MountedDir(config.secret, this.root);
  }

  get flags(): string[] {
    return [
      '--argocd-cm',
      this.cm.path,
      '--argocd-rbac-cm',
      this.rbac.path,
      '--argocd-secret',
      this.secret.path,
    ];
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
