/**
 * Registers the "Anomalies" tab and status panel item with Argo CD. Nothing else happens here: Argo CD
 * concatenates every extension into one script, so this file must not touch the page.
 */
import type { ExtensionsAPI } from './argocd-types';
import { AnomalyTab } from './components/anomaly-tab';
import { AnomalyFlyout, AnomalyStatusPanel } from './components/status-panel';
import { SETTINGS_GLOBAL, tabKinds } from './tab-kinds';

const TAB_TITLE = 'Anomalies';
const ICON = 'fa fa-chart-line';
/** The status panel item's id: Argo CD opens the flyout of the item with this id. */
const STATUS_PANEL_ID = 'anomaly-status';

type HostWindow = { extensionsAPI?: ExtensionsAPI } & Record<string, unknown>;

((window: HostWindow) => {
  const api = window.extensionsAPI;
  if (!api) return; // not inside Argo CD (or a very old one): stay silent
  // Argo CD concatenates all extensions into one script; an
  // exception escaping here would stop every extension after this one from loading.
  try {
    const { kinds, problem } = tabKinds(window[SETTINGS_GLOBAL]);
    if (problem) console.error(`anomaly extension: ${problem}; using the default kinds`);
    // Exact group and kind (Argo CD matches them as globs; the core group is '', which
    // `*` would not match).
    for (const { group, kind } of kinds) {
      api.registerResourceExtension(AnomalyTab, group, kind, TAB_TITLE, { icon: ICON });
    }
    // Argo CD before 2.10 has no status panel extensions; the tab works without it.
    api.registerStatusPanelExtension?.(
      AnomalyStatusPanel,
      TAB_TITLE,
      STATUS_PANEL_ID,
      AnomalyFlyout,
    );
  } catch (err) {
    console.error('anomaly extension: registration failed', err);
  }
})(window as unknown as HostWindow);
