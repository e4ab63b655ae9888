/**
 * Registers the "Anomalies" tab, status panel item and sidebar page with Argo CD. Nothing else happens here: Argo CD
 * concatenates every extension into one script, so this file must not touch the page.
 */
import type { ExtensionsAPI } from './argocd-types';
import { AnomalyTab } from './components/anomaly-tab';
import { AnomalyOverview } from './components/overview-page';
import { AnomalyFlyout, AnomalyStatusPanel } from './components/status-panel';
import { SETTINGS_GLOBAL, tabKinds } from './tab-kinds';

const TAB_TITLE = 'Anomalies';
const ICON = 'fa fa-chart-line';
/** The status panel item's id: Argo CD opens the flyout of the item with this id. */
const STATUS_PANEL_ID = 'anomaly-status';
/** The overview page's route in Argo CD (`<base>anomalies`), and its sidebar entry. */
const OVERVIEW_PATH = '/anomalies';

/**
 * Calls `then` once Argo CD's shell (its App component) exists. Argo CD 3.5 mounts it with
 * React 19's createRoot, which may run after deferred scripts such as this one, and the App
 * subscribes to system-level registrations in its constructor: a page registered before is
 * dropped without a word (argoproj/argo-cd#29095). The App's first render puts something
 * into `#app` ("Checking session…" on 3.5, before any route is drawn, so a link straight
 * to the page still finds its route); Argo CD 3.4 has rendered it before extensions run.
 * Only the root's children are watched, and reading them changes nothing on the page.
 */
function whenShellMounted(then: () => void): void {
  const root = document.getElementById('app');
  if (!root || root.firstChild) {
    then();
    return;
  }
  const observer = new MutationObserver(() => {
    if (!root.firstChild) return;
    observer.disconnect();
    try {
      then();
    } catch (err) {
      console.error('anomaly extension: registering the Anomalies page failed', err);
    }
  });
  observer.observe(root, { childList: true });
}

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
    const registerPage = api.registerSystemLevelExtension?.bind(api);
    if (registerPage) {
      whenShellMounted(() =>
        registerPage(AnomalyOverview, TAB_TITLE, OVERVIEW_PATH, 'fa-chart-line'),
      );
    }
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
