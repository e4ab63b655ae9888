import { spawnSync } from 'child_process';
import { MountedDir } from '../helpers/mounted-dir';
import { BIN } from '../helpers/sidecar-process';

/** `can` must print the same decision the sidecar enforces (same code path). */
describe('argocd-extension-proxy can', () => {
  const rbac = new MountedDir({
    'policy.csv': [
      'p, role:admin, extensions, invoke, *, allow',
      'g, admin, role:admin',
      'p, alice, extensions, invoke, anomaly, allow',
      'p, role:ops, extensions, invoke, cost*, allow',
      'g, ops-team, role:ops',
    ].join('\n'),
  });
  afterAll(() => rbac.remove());

  const can = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'can', ...args], { encoding: 'utf8' });

  it.each([
    [['admin', 'extensions', 'invoke', 'anything'], 'Yes', 0],
    [['alice', 'extensions', 'invoke', 'anomaly'], 'Yes', 0],
    [['alice', 'extensions', 'invoke', 'cost'], 'No', 1],
    [['carol', 'extensions', 'invoke', 'cost-explorer', '--groups', 'dev,ops-team'], 'Yes', 0],
    [['carol', 'extensions', 'invoke', 'anomaly', '--groups', 'ops-team'], 'No', 1],
  ])('%j prints %s', (args, answer, code) => {
    const result = can(...args, '--argocd-rbac-cm', rbac.path);
    expect(result.stdout).toBe(answer + '\n');
    expect(result.status).toBe(code);
  });

  it.each([
    [['alice', 'applications', 'get', 'x'], 'only "extensions invoke" can be checked'],
    [['alice', 'extensions', 'invoke'], 'expected: SUBJECT extensions invoke NAME'],
    [['alice', 'extensions', 'invoke', 'x', '--bogus'], 'unknown flag --bogus'],
  ])('exits 2 with a usage error for %j', (args, message) => {
    const result = can(...args, '--argocd-rbac-cm', rbac.path);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('explains an invalid policy instead of answering', () => {
    const bad = new MountedDir({ 'policy.csv': 'p, alice, extensions\n' });
    try {
      const result = can('alice', 'extensions', 'invoke', 'x', '--argocd-rbac-cm', bad.path);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('argocd-rbac-cm is invalid');
    } finally {
      bad.remove();
    }
  });

  it('prints help for every command', () => {
    for (const command of ['serve', 'can']) {
      const result = spawnSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`Usage: argocd-extension-proxy ${command}`);
      expect(result.stdout).toContain('ARGOCD_EXTENSION_PROXY_ARGOCD_RBAC_CM');
    }
  });
});
