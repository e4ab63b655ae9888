/**
 * Which resources get the Anomalies tab. The default list is the kinds the anomaly backend
 * answers for; an operator changes it without rebuilding the bundle by running the
 * installer with `--tab-kinds` (docs/install.md), which writes
 * `window.argocdExtensionAnomaly = {kinds: [...]}` in a script Argo CD concatenates before
 * this bundle.
 */

export interface TabKind {
  /** The API group; `''` for the core group. */
  group: string;
  kind: string;
}

/** The global the installer's settings script sets. */
export const SETTINGS_GLOBAL = 'argocdExtensionAnomaly';

export const DEFAULT_TAB_KINDS: readonly TabKind[] = [
  { group: 'apps', kind: 'Deployment' },
  { group: 'apps', kind: 'StatefulSet' },
  { group: 'apps', kind: 'DaemonSet' },
  { group: 'apps', kind: 'ReplicaSet' },
  { group: '', kind: 'Pod' },
  { group: 'argoproj.io', kind: 'Rollout' },
  { group: 'argoproj.io', kind: 'Application' },
];

/**
 * Exact names only: Argo CD matches registrations as minimatch globs, and a `*` here would
 * give the tab to kinds the backend cannot answer for.
 */
const GROUP = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const MAX_KINDS = 50;

/** The kinds from the settings global, or the defaults with the reason they were not used. */
export function tabKinds(settings: unknown): { kinds: readonly TabKind[]; problem?: string } {
  if (settings === undefined) return { kinds: DEFAULT_TAB_KINDS };
  const list = (settings as { kinds?: unknown } | null)?.kinds;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_KINDS) {
    return {
      kinds: DEFAULT_TAB_KINDS,
      problem: `${SETTINGS_GLOBAL}.kinds must be a list of 1 to ${MAX_KINDS} {group, kind}`,
    };
  }
  for (let i = 0; i < list.length; i++) {
    const entry = list[i] as { group?: unknown; kind?: unknown } | null;
    if (typeof entry?.group !== 'string' || !GROUP.test(entry.group)) {
      return {
        kinds: DEFAULT_TAB_KINDS,
        problem: `${SETTINGS_GLOBAL}.kinds[${i}].group must be an API group such as "apps" ("" for the core group)`,
      };
    }
    if (typeof entry.kind !== 'string' || !KIND.test(entry.kind)) {
      return {
        kinds: DEFAULT_TAB_KINDS,
        problem: `${SETTINGS_GLOBAL}.kinds[${i}].kind must be a kind such as "Deployment"`,
      };
    }
  }
  return {
    kinds: (list as TabKind[]).map(({ group, kind }) => ({ group, kind })),
  };
}
