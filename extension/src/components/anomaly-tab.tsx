import * as React from 'react';

import { resourceRefOf } from '../api/resource-ref';
import type { AnomaliesResponse, AnomalyWindow } from '../api/types';
import type { ExtensionComponentProps } from '../argocd-types';
import { useAnomalies, type AnomaliesLoad } from '../hooks/use-anomalies';
import { valueExtent } from '../model/chart-geometry';
import { explainWindows } from '../model/explain';
import { syncsOf, type Sync } from '../model/syncs';
import { DEFAULT_TIME_RANGE, timeRangeOption, type TimeRangeId } from '../model/time-range';
import { ErrorNotice } from './error-notice';
import { SampleDataNotice } from './sample-data-notice';
import { ROOT_CLASS, ScopedStyles } from './scoped-styles';
import { Summary } from './summary';
import { METRIC_COLORS, SCORE_COLOR, TimeSeriesChart } from './time-series-chart';
import { TimeRangeSelector } from './time-range-selector';
import { WindowList } from './window-list';

let instances = 0;

/** The "Anomalies" tab: what Argo CD renders for a registered resource kind. */
export function AnomalyTab({ application, resource }: ExtensionComponentProps): React.ReactElement {
  // React 16 has no useId; ids only need to be unique within the page.
  const [id] = React.useState(() => `anomaly-ext-${++instances}`);
  const [rangeId, setRangeId] = React.useState<TimeRangeId>(DEFAULT_TIME_RANGE);
  const [reloadToken, setReloadToken] = React.useState(0);
  const ref = resourceRefOf(resource);
  const load = useAnomalies(application, ref, rangeId, reloadToken);
  const data =
    load.status === 'ready' ? load.data : load.status === 'loading' ? load.previous : undefined;
  const range = timeRangeOption(rangeId);
  const syncs = React.useMemo(() => syncsOf(application), [application]);
  const explanations = React.useMemo(
    () => (data ? explainWindows(data, syncs) : []),
    [data, syncs],
  );
  const [selected, setSelected] = React.useState(0);
  // A new answer starts again from its newest window.
  React.useEffect(() => setSelected(0), [data]);
  const chosen = explanations[selected];
  const box = React.useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);

  return (
    <section
      className={ROOT_CLASS}
      data-anomaly-tab=""
      aria-labelledby={`${id}-title`}
      aria-busy={load.status === 'loading'}
    >
      <ScopedStyles />
      <div className="white-box">
        <div className="ae-toolbar">
          <h2 id={`${id}-title`}>
            Anomalies of {ref.kind} {ref.name}, {range.description}
          </h2>
          <TimeRangeSelector value={rangeId} onChange={setRangeId} name={`${id}-range`} />
          <button
            type="button"
            className="argo-button argo-button--base"
            onClick={() => setReloadToken((n) => n + 1)}
            disabled={load.status === 'loading'}
          >
            <i className="fa fa-redo" aria-hidden="true" /> Refresh
          </button>
        </div>
        {data?.source === 'sample' && <SampleDataNotice />}
        {load.status !== 'error' && <Summary data={data} rangeDescription={range.description} />}
        <div
          ref={box}
          className={`ae-chart-box${load.status === 'loading' && data ? ' ae-stale' : ''}`}
        >
          {renderChartArea(load, data, id, range.description, width, chosen?.windows, syncs)}
        </div>
        <ul className="ae-legend" aria-hidden="true">
          <li>
            <span className="ae-swatch" style={{ background: SCORE_COLOR }} />
            Anomaly score
          </li>
          {(data?.series ?? []).map((series, i) => (
            <li key={series.metric}>
              <span
                className="ae-swatch"
                style={{ background: METRIC_COLORS[i % METRIC_COLORS.length] }}
              />
              {series.label}
            </li>
          ))}
          <li>
            <span className="ae-swatch" style={{ background: 'rgba(233, 109, 118, 0.5)' }} />
            Anomalous window
          </li>
          {chosen && data?.series.some((s) => s.metric === chosen.window.metric && s.band) && (
            <li>
              <span className="ae-swatch ae-swatch--band" />
              Expected range of the chosen metric
            </li>
          )}
          {syncs.length > 0 && (
            <li>
              <span className="ae-swatch ae-swatch--sync" />
              Sync
            </li>
          )}
        </ul>
        {load.status !== 'error' && data && (
          <WindowList
            explanations={explanations}
            selected={selected}
            onSelect={setSelected}
            span={data.range.to - data.range.from}
            idPrefix={id}
          />
        )}
        <div className="ae-sr-only" role="status" aria-live="polite">
          {statusText(load.status, data)}
        </div>
      </div>
    </section>
  );
}

/** The element's width in CSS pixels, following resizes (0 until measured). */
function useElementWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = React.useState(0);
  React.useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.round(element.getBoundingClientRect().width));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

function renderChartArea(
  load: AnomaliesLoad,
  data: AnomaliesResponse | undefined,
  id: string,
  rangeDescription: string,
  width: number,
  selected: readonly AnomalyWindow[] | undefined,
  syncs: readonly Sync[],
): React.ReactElement {
  if (load.status === 'error') {
    return (
      <div className="ae-placeholder">
        <ErrorNotice error={load.error} />
      </div>
    );
  }
  if (!data) {
    return (
      <div className="ae-placeholder ae-muted">
        <i className="fa fa-circle-notch fa-spin" aria-hidden="true" /> Loading anomalies…
      </div>
    );
  }
  if (!hasAnyValue(data)) {
    return (
      <div className="ae-placeholder ae-muted">
        <p>
          No data for this resource in the {rangeDescription}. Its metrics may not be scraped yet,
          or it was not running.
        </p>
      </div>
    );
  }
  return (
    <>
      <span id={`${id}-chart`} className="ae-sr-only">
        Anomaly chart
      </span>
      {width > 0 && (
        <TimeSeriesChart
          data={data}
          titleId={`${id}-chart`}
          width={width}
          selected={selected}
          syncs={syncs}
        />
      )}
    </>
  );
}

function hasAnyValue(data: AnomaliesResponse): boolean {
  return (
    valueExtent(data.scores) !== undefined ||
    data.series.some((s) => valueExtent(s.points) !== undefined)
  );
}

function statusText(
  status: 'loading' | 'ready' | 'error',
  data: AnomaliesResponse | undefined,
): string {
  if (status === 'loading') return 'Loading anomalies';
  if (status === 'error') return 'Loading anomalies failed';
  if (!data || !hasAnyValue(data)) return 'No anomaly data';
  return `State ${data.summary.state}, score ${data.summary.score ?? 'unknown'}`;
}
