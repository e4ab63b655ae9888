import { DEFAULT_TAB_KINDS, tabKinds } from '../../../extension/src/tab-kinds';

describe('tabKinds: which resources get the Anomalies tab', () => {
  it('uses the default kinds without settings', () => {
    expect(tabKinds(undefined)).toEqual({ kinds: DEFAULT_TAB_KINDS });
    expect(DEFAULT_TAB_KINDS.map((k) => `${k.group}/${k.kind}`)).toEqual([
      'apps/Deployment',
      'apps/StatefulSet',
      'apps/DaemonSet',
      'apps/ReplicaSet',
      '/Pod',
      'argoproj.io/Rollout',
      'argoproj.io/Application',
    ]);
  });

  it("takes the installer's kinds, only their group and kind", () => {
    expect(
      tabKinds({
        kinds: [
          { group: 'apps', kind: 'Deployment', extra: 1 },
          { group: '', kind: 'Pod' },
        ],
      }),
    ).toEqual({
      kinds: [
        { group: 'apps', kind: 'Deployment' },
        { group: '', kind: 'Pod' },
      ],
    });
  });

  it.each([
    [null, 'argocdExtensionAnomaly.kinds must be a list of 1 to 50 {group, kind}'],
    [{ kinds: [] }, 'argocdExtensionAnomaly.kinds must be a list of 1 to 50 {group, kind}'],
    [{ kinds: 'apps/Deployment' }, 'must be a list'],
    [{ kinds: [{ group: '*', kind: 'Deployment' }] }, 'kinds[0].group must be an API group'],
    [{ kinds: [{ group: 'apps', kind: '*' }] }, 'kinds[0].kind must be a kind'],
    [{ kinds: [{ group: 'apps', kind: 'Deployment' }, { kind: 'Pod' }] }, 'kinds[1].group'],
    [{ kinds: [{ group: 'Apps', kind: 'Deployment' }] }, 'kinds[0].group'],
    [{ kinds: [{ group: 'apps', kind: 'deployment' }] }, 'kinds[0].kind'],
    [{ kinds: Array(51).fill({ group: 'apps', kind: 'Deployment' }) }, 'list of 1 to 50'],
  ])('falls back to the defaults, saying why, for %j', (settings, problem) => {
    const result = tabKinds(settings);
    expect(result.kinds).toBe(DEFAULT_TAB_KINDS);
    expect(result.problem).toContain(problem);
  });
});
