/**
 * The V8 flags the programs set on themselves at start (proxy-server/src/node-flags.ts):
 * only where this Node's V8 has them, so no version prints "unrecognized flag".
 */
import { spawnSync } from 'child_process';
import { runtimeV8Flags } from '../../../proxy-server/src/node-flags';
import { BIN } from '../../helpers/sidecar-process';

describe('runtime V8 flags', () => {
  it('are set from V8 12 (Node 22) on, not on V8 11 (Node 20)', () => {
    expect(runtimeV8Flags('11.3.244.8-node.33')).toEqual([]);
    expect(runtimeV8Flags('12.4.254.21-node.33')).toEqual([
      '--scavenger-max-new-space-capacity-mb=4',
    ]);
    expect(runtimeV8Flags('13.6.233.17-node.37')).toEqual([
      '--scavenger-max-new-space-capacity-mb=4',
    ]);
  });

  it("are exactly the ones this Node's V8 knows", () => {
    const options = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    expect(options).toContain('--max-semi-space-size');
    const known = /^\s+--scavenger-max-new-space-capacity-mb\b/m.test(options);
    const flags = runtimeV8Flags(process.versions.v8);
    expect(flags.length > 0).toBe(known);
    for (const flag of flags) {
      // A value V8 takes: Node starts with it and nothing is reported.
      const run = spawnSync(process.execPath, [flag, '-e', ''], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stderr).toBe('');
    }
  });

  it('are set by the program without a word on stderr beyond its own', () => {
    const run = spawnSync(process.execPath, [BIN, 'serve', '--no-such-flag'], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).not.toMatch(/unrecognized flag/i);
    expect(run.stderr).toMatch(/^argocd-extension-proxy serve: /);
  });
});
