import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';

/**
 * A ConfigMap or Secret mounted as a directory: one file per key. Kubernetes keeps the real
 * files under `..<timestamp>/`, points `..data` at the current one and makes each key a
 * symlink through `..data`; an update swaps `..data` atomically. Names starting with a dot
 * are never keys (Kubernetes keys cannot start with `..`), so they are skipped.
 */
export class ConfigDirError extends Error {}

/** Reads every key of a mounted directory. Throws ConfigDirError naming the directory. */
export function readConfigDir(dir: string): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ConfigDirError(
      `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const data: Record<string, string> = {};
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      data[name] = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigDirError(
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  }
  return data;
}

/**
 * A cheap fingerprint of a mounted directory from file metadata only (name, inode, size,
 * mtime, following symlinks), so polling never re-reads a large policy file. A swap of
 * `..data` changes the inode of every key, which changes the fingerprint.
 */
export function fingerprintConfigDir(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
  const parts: string[] = [];
  for (const name of names) {
    if (name.startsWith('.') && name !== '..data') continue;
    try {
      const st = statSync(join(dir, name));
      parts.push(`${name}:${st.ino}:${st.size}:${st.mtimeMs}`);
    } catch {
      parts.push(`${name}:missing`);
    }
  }
  return parts.join('|');
}
