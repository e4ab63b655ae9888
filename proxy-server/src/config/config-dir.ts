import { readdirSync, statSync } from 'fs';
import { readFile, stat } from 'fs/promises';
import { setImmediate as nextTurn } from 'timers/promises';
import { join } from 'path';

/**
 * A ConfigMap or Secret mounted as a directory: one file per key. Kubernetes keeps the real
 * files under `..<timestamp>/`, points `..data` at the current one and makes each key a
 * symlink through `..data`; an update swaps `..data` atomically. Names starting with a dot
 * are never keys (Kubernetes keys cannot start with `..`), so they are skipped.
 */
export class ConfigDirError extends Error {}

/**
 * Reads every key of a mounted directory. Throws ConfigDirError naming the directory. Reads
 * happen while requests flow (a reload): files are read off the event loop, and a large one
 * (a 100,000-line policy is ~5 MB) is decoded a slice at a time with turns of the event loop
 * in between. Read in one go, such a file holds every request up for 10-20 ms.
 */
export async function readConfigDir(dir: string): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  for (const name of keyNames(dir)) {
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      if (!(await stat(path)).isFile()) continue;
      bytes = await readFile(path);
    } catch (err) {
      throw unreadable(path, err);
    }
    data[name] = await decodeYielding(bytes);
  }
  return data;
}

/** Bytes decoded between two turns of the event loop by {@link decodeYielding}. */
const DECODE_SLICE_BYTES = 256 * 1024;

/**
 * UTF-8 text of `bytes`, as `bytes.toString('utf8')` gives it (a byte order mark is kept),
 * decoded in slices with a turn of the event loop between them. A character split between
 * two slices is decoded whole (the decoder carries its first bytes over).
 */
export async function decodeYielding(bytes: Buffer): Promise<string> {
  if (bytes.length <= DECODE_SLICE_BYTES) return bytes.toString('utf8');
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  for (let start = 0; start < bytes.length; start += DECODE_SLICE_BYTES) {
    if (start > 0) await nextTurn();
    const end = Math.min(bytes.length, start + DECODE_SLICE_BYTES);
    text += decoder.decode(bytes.subarray(start, end), { stream: end < bytes.length });
  }
  return text;
}

/** The names in a directory that can be keys (not dot files), sorted (a few entries). */
function keyNames(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw unreadable(dir, err);
  }
  return names.sort().filter((name) => !name.startsWith('.'));
}

function unreadable(path: string, err: unknown): ConfigDirError {
  return new ConfigDirError(
    `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
  );
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
