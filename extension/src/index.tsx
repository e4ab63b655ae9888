/**
 * Registers the "Anomalies" tab with Argo CD. Nothing else happens here: Argo CD
 * concatenates every extension into one script, so this file must not touch the page.
 */
import type { ExtensionsAPI } from './argocd-types';
import { AnomalyTab } from './components/anomaly-tab';

const TAB_TITLE = 'Anomalies';
const ICON = 'fa fa-chart-line';

/**
 * [group, kind] globs (minimatch, case-sensitive). The core group is `''`, which `*`
 * would not match, so Pod is registered with the exact empty group.
 */
const REGISTRATIONS: ReadonlyArray<readonly [group: string, kind: string]> = [
  ['apps', 'Deployment'],
  ['apps', 'StatefulSet'],
  ['apps', 'DaemonSet'],
  ['apps', 'ReplicaSet'],
  ['', 'Pod'],
  ['argoproj.io', 'Rollout'],
  ['argoproj.io', 'Application'],
];

((window: Window & { extensionsAPI?: ExtensionsAPI }) => {
  const api = window.extensionsAPI;
  if (!api) return; // not inside Argo CD (or a very old one): stay silent
  // Argo CD concatenates all extensions into one script; an
  // exception escaping here would stop every extension after this one from loading.
  try {
    for (const [group, kind] of REGISTRATIONS) {
      api.registerResourceExtension(AnomalyTab, group, kind, TAB_TITLE, { icon: ICON });
    }
  } catch (err) {
    console.error('anomaly extension: registration failed', err);
  }
})(window);
