import * as React from 'react';

import type { WindowExplanation } from '../model/explain';
import { describeChange } from '../model/explain';
import { formatTime } from '../model/format';
import { formatQuantity } from '../model/units';

export interface WindowListProps {
  explanations: readonly WindowExplanation[];
  /** Index into `explanations` of the chosen window. */
  selected: number;
  onSelect: (index: number) => void;
  /** Seconds the range spans (for how times are written). */
  span: number;
  idPrefix: string;
}

/** A URL the tab may link to: http or https only (the backend is not trusted with more). */
export function safeLink(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The anomalous windows, newest first, each in one sentence; choosing one highlights its
 * span and metric on the chart and shows what the detector compared, and the PromQL.
 */
export function WindowList(props: WindowListProps): React.ReactElement | null {
  const { explanations, selected, onSelect, span, idPrefix } = props;
  if (explanations.length === 0) return null;
  const chosen = explanations[selected] ?? explanations[0];
  return (
    <div className="ae-windows">
      <h3 id={`${idPrefix}-windows`}>Anomalies, newest first</h3>
      <ol aria-labelledby={`${idPrefix}-windows`}>
        {explanations.map((item, i) => (
          <li key={`${item.start}-${item.window.metric}`}>
            <button
              type="button"
              className={`ae-window-item${i === selected ? ' ae-window-item--selected' : ''}`}
              aria-pressed={i === selected}
              onClick={() => onSelect(i)}
            >
              <span className="ae-headline">{item.headline}</span>
              {item.detail && <span className="ae-detail"> ({item.detail})</span>}
              {item.also && <span className="ae-also">also {item.also}</span>}
              {item.syncNote && <span className="ae-sync-note">{item.syncNote}</span>}
            </button>
          </li>
        ))}
      </ol>
      <WindowDetails item={chosen} span={span} />
    </div>
  );
}

function WindowDetails({ item, span }: { item: WindowExplanation; span: number }) {
  const [copied, setCopied] = React.useState(false);
  const queryRef = React.useRef<HTMLElement>(null);
  const query = item.series?.query ?? item.driver?.query;
  const link = safeLink(item.series?.exploreUrl);
  const unit = item.series?.unit ?? '';
  React.useEffect(() => setCopied(false), [query]);

  const copy = () => {
    if (!query) return;
    const done = () => setCopied(true);
    // The Clipboard API needs a secure context; otherwise select the text for Ctrl+C.
    const clipboard = (navigator as Navigator & { clipboard?: Clipboard }).clipboard;
    if (clipboard?.writeText) {
      clipboard.writeText(query).then(done, () => selectQuery(queryRef.current));
    } else {
      selectQuery(queryRef.current);
    }
  };

  return (
    <div className="ae-details" aria-live="polite">
      {item.driver && (
        <p>
          {item.series?.label ?? item.window.metric} {describeChange(item.driver)} at{' '}
          {formatTime(item.driver.peak, span)}: saw {formatQuantity(item.driver.observed, unit)},
          expected {formatQuantity(item.driver.expected, unit)} (usual range{' '}
          {formatQuantity(item.driver.low, unit)} – {formatQuantity(item.driver.high, unit)}, judged
          against{' '}
          {item.driver.baseline === 'trend'
            ? 'the trend of the last hour'
            : 'the same time on earlier days'}
          ).
          {item.also && <> Also unusual then: {item.also}.</>}
        </p>
      )}
      {query && (
        <div className="ae-query">
          <code ref={queryRef}>{query}</code>
          <div className="ae-query-actions">
            <button type="button" className="argo-button argo-button--base-o" onClick={copy}>
              <i className="fa fa-copy" aria-hidden="true" /> {copied ? 'Copied' : 'Copy PromQL'}
            </button>
            {link && (
              <a
                className="argo-button argo-button--base-o"
                href={link}
                target="_blank"
                rel="noopener noreferrer"
              >
                <i className="fa fa-external-link-alt" aria-hidden="true" /> Open in{' '}
                {new URL(link).host}
              </a>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function selectQuery(element: HTMLElement | null): void {
  if (!element) return;
  const selection = window.getSelection();
  const range = document.createRange();
  range.selectNodeContents(element);
  selection?.removeAllRanges();
  selection?.addRange(range);
}
