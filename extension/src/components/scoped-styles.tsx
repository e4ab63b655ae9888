import * as React from 'react';

import { chartHeight } from './time-series-chart';

/** Every rule lives under this class: nothing here can restyle the host page. */
export const ROOT_CLASS = 'anomaly-ext';

/**
 * Height the chart area keeps while loading or explaining an error: that of a chart of
 * three metrics with syncs (a Deployment's usual answer), so the first answer moves nothing.
 */
export const CHART_MIN_HEIGHT = chartHeight(3, true);

// Colors are chosen to read on both argo-ui themes (white and the dark theme's
// #100f0f-ish panels); text and axes inherit `currentColor` from the host.
const CSS = `
.${ROOT_CLASS} { color: inherit; font-size: 14px; line-height: 1.4; }
.${ROOT_CLASS} .ae-toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; margin-bottom: 12px; }
.${ROOT_CLASS} .ae-toolbar h2 { font-size: 16px; margin: 0 auto 0 0; font-weight: 500; }
.${ROOT_CLASS} .ae-ranges { display: inline-flex; border: 0; margin: 0; padding: 0; }
.${ROOT_CLASS} .ae-ranges legend { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.${ROOT_CLASS} .ae-ranges label { position: relative; cursor: pointer; }
.${ROOT_CLASS} .ae-ranges input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.${ROOT_CLASS} .ae-ranges span { display: inline-block; padding: 4px 10px; border: 1px solid rgba(128,128,128,.5); margin-left: -1px; }
.${ROOT_CLASS} .ae-ranges label:first-of-type span { border-radius: 4px 0 0 4px; margin-left: 0; }
.${ROOT_CLASS} .ae-ranges label:last-of-type span { border-radius: 0 4px 4px 0; }
.${ROOT_CLASS} .ae-ranges input:checked + span { background: #0a7ea8; border-color: #0a7ea8; color: #fff; }
.${ROOT_CLASS} .ae-ranges input:focus-visible + span,
.${ROOT_CLASS} button:focus-visible { outline: 2px solid #0dadea; outline-offset: 2px; }
.${ROOT_CLASS} .ae-summary { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; min-height: 56px; margin: 0 0 8px; }
.${ROOT_CLASS} .ae-state-note { font-size: 13px; }
.${ROOT_CLASS} .ae-state { font-weight: 600; font-size: 16px; }
/* At least 4.5:1 on the light theme's white and the dark theme's #303237 panels. */
.${ROOT_CLASS} .ae-state--normal { color: #0b7a5c; }
.${ROOT_CLASS} .ae-state--anomalous { color: #c7303c; }
.theme-dark .${ROOT_CLASS} .ae-state--normal { color: #18be94; }
.theme-dark .${ROOT_CLASS} .ae-state--anomalous { color: #f08a92; }
.${ROOT_CLASS} .ae-state--unknown { opacity: .75; }
.${ROOT_CLASS} .ae-figure { font-size: 20px; font-weight: 600; }
.${ROOT_CLASS} .ae-muted { opacity: .85; }
.${ROOT_CLASS} .ae-chart-box { position: relative; width: 100%; min-height: ${CHART_MIN_HEIGHT}px; overflow-x: auto; overflow-y: hidden; }
.${ROOT_CLASS} .ae-chart-box svg { display: block; }
.${ROOT_CLASS} .ae-stale { opacity: .5; transition: opacity .2s; }
.${ROOT_CLASS} .ae-placeholder { position: absolute; inset: 0; display: flex; flex-direction: column; justify-content: center; align-items: center; text-align: center; padding: 16px; border: 1px dashed rgba(128,128,128,.5); border-radius: 4px; }
.${ROOT_CLASS} .ae-notice { border-left: 4px solid #f4c030; padding: 8px 12px; margin-bottom: 12px; background: rgba(244,192,48,.12); }
.${ROOT_CLASS} .ae-error { border-left-color: #e96d76; background: rgba(233,109,118,.12); text-align: left; max-width: 640px; }
.${ROOT_CLASS} .ae-error h3 { font-size: 15px; margin: 0 0 4px; }
.${ROOT_CLASS} .ae-error code { display: block; margin: 4px 0 8px; padding: 4px 8px; background: rgba(128,128,128,.15); user-select: all; white-space: pre-wrap; word-break: break-all; }
.${ROOT_CLASS} .ae-legend { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 8px; padding: 0; list-style: none; }
.${ROOT_CLASS} .ae-swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
.${ROOT_CLASS} .ae-swatch--band { background: rgba(128,128,128,.35); }
.${ROOT_CLASS} .ae-swatch--sync { width: 0; height: 12px; border-left: 2px dashed #6d7f8b; border-radius: 0; }
.${ROOT_CLASS} .ae-windows { margin-top: 16px; }
.${ROOT_CLASS} .ae-windows h3 { font-size: 14px; font-weight: 600; margin: 0 0 6px; }
.${ROOT_CLASS} .ae-windows ol { list-style: none; margin: 0; padding: 0; }
.${ROOT_CLASS} .ae-window-item { display: block; width: 100%; text-align: left; padding: 6px 10px; margin: 0 0 4px; border: 1px solid rgba(128,128,128,.35); border-left: 4px solid rgba(233,109,118,.6); border-radius: 4px; background: transparent; color: inherit; font: inherit; cursor: pointer; }
.${ROOT_CLASS} .ae-window-item--selected { border-color: #e96d76; background: rgba(233,109,118,.1); }
.${ROOT_CLASS} .ae-window-item:focus-visible { outline: 2px solid #0dadea; outline-offset: 2px; }
.${ROOT_CLASS} .ae-headline { font-weight: 600; }
.${ROOT_CLASS} .ae-sync-note, .${ROOT_CLASS} .ae-also { display: block; font-size: 13px; opacity: .85; }
.${ROOT_CLASS} .ae-details { margin-top: 8px; padding: 8px 10px; border-left: 4px solid rgba(128,128,128,.35); }
.${ROOT_CLASS} .ae-details p { margin: 0 0 8px; }
.${ROOT_CLASS} .ae-query code { display: block; padding: 6px 8px; background: rgba(128,128,128,.15); white-space: pre-wrap; word-break: break-all; font-size: 12px; }
.${ROOT_CLASS} .ae-query-actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 6px; }
.${ROOT_CLASS} a.argo-button:focus-visible { outline: 2px solid #0dadea; outline-offset: 2px; }
.${ROOT_CLASS} .ae-workloads { list-style: none; margin: 0; padding: 0; }
.${ROOT_CLASS} .ae-workload { padding: 6px 10px; margin: 0 0 4px; border: 1px solid rgba(128,128,128,.35); border-radius: 4px; }
.${ROOT_CLASS} .ae-workload--anomalous { border-left: 4px solid rgba(233,109,118,.6); }
.${ROOT_CLASS}[data-anomaly-overview] { padding: 16px 24px; }
.${ROOT_CLASS} .ae-overview { width: 100%; border-collapse: collapse; }
.${ROOT_CLASS} .ae-overview th, .${ROOT_CLASS} .ae-overview td { text-align: left; padding: 6px 10px; border-bottom: 1px solid rgba(128,128,128,.35); }
.${ROOT_CLASS} .ae-progress { display: flex; align-items: center; gap: 8px; }
.${ROOT_CLASS} .ae-sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** Rendered inside the tab, so it goes away with it. */
export function ScopedStyles(): React.ReactElement {
  return <style>{CSS}</style>;
}
