import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import {
  ConfigDirError,
  decodeYielding,
  readConfigDir,
} from '../../../proxy-server/src/config/config-dir';
import { countTurns } from '../../helpers/event-loop';
import { MountedDir } from '../../helpers/mounted-dir';

describe('readConfigDir', () => {
  const dirs: MountedDir[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => dir.remove()));
  const mount = (data: Record<string, string | Buffer>): MountedDir => {
    const dir = new MountedDir(data);
    dirs.push(dir);
    return dir;
  };

  it('read the keys of a kubelet-style volume, following ..data, skipping dot files and directories', async () => {
    const dir = mount({ 'policy.csv': 'p, a, b, c, d, allow\n', 'policy.default': '' });
    writeFileSync(join(dir.path, '.hidden'), 'not a key');
    mkdirSync(join(dir.path, 'sub'));
    const expected = { 'policy.csv': 'p, a, b, c, d, allow\n', 'policy.default': '' };
    expect(await readConfigDir(dir.path)).toEqual(expected);
  });

  it('decode a large file in slices to exactly what readFileSync gives (BOM kept, characters across slice ends whole)', async () => {
    // 3- and 4-byte characters at every offset around the 256 KiB slice ends, a BOM first.
    const line = 'p, rôle:€-ops, extensions, invoke, 𝔢xt, allow\n';
    const text = '\uFEFF' + line.repeat(Math.ceil((3 * 256 * 1024) / Buffer.byteLength(line)));
    const dir = mount({ 'policy.csv': text });
    const read = await readConfigDir(dir.path);
    expect(read['policy.csv']).toBe(text);
    expect(read['policy.csv']).toBe(readFileSync(join(dir.path, 'policy.csv'), 'utf8'));
    // Each slice end (256 KiB) falling inside a 2-, 3- and 4-byte character, at each byte.
    for (const char of ['ô', '€', '𝔢']) {
      for (let inside = 1; inside < Buffer.byteLength(char); inside++) {
        const bytes = Buffer.from('a'.repeat(256 * 1024 - inside) + char.repeat(100_000));
        expect(await decodeYielding(bytes)).toBe(bytes.toString('utf8'));
      }
    }
  });

  it('let the event loop turn while decoding a large file', async () => {
    const bytes = Buffer.from('p, alice, extensions, invoke, ext, allow\n'.repeat(100_000));
    const { result, turns } = await countTurns(() => decodeYielding(bytes));
    expect(result).toBe(bytes.toString('utf8'));
    // ~4 MB in 256 KiB slices: a turn between each two.
    expect(turns).toBeGreaterThanOrEqual(10);
  });

  it('name the directory when it cannot be read', async () => {
    const missing = join(mount({}).path, 'nope');
    const message = `cannot read ${missing}: ENOENT`;
    await expect(readConfigDir(missing)).rejects.toThrow(new ConfigDirError(message));
  });

  it('name the file when a key cannot be read', async () => {
    const dir = mount({ 'policy.csv': 'x' });
    symlinkSync('..data/gone', join(dir.path, 'dangling'));
    const message = `cannot read ${join(dir.path, 'dangling')}: ENOENT`;
    await expect(readConfigDir(dir.path)).rejects.toThrow(new ConfigDirError(message));
  });
});
