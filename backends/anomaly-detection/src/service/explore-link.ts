/**
 * The link from a metric to the same query and range in the operator's Prometheus or
 * Grafana (`--explore-url`). The template is the operator's; the values put into it are
 * URL-encoded, and the result must be an http(s) URL, checked once at start with every
 * placeholder filled, so no query text can turn it into another scheme.
 */

/** The values a template can use. */
export interface ExploreValues {
  /** The rendered PromQL. */
  query: string;
  /** Unix seconds. */
  from: number;
  to: number;
  step: number;
}

const PLACEHOLDERS: Record<string, (v: ExploreValues) => string> = {
  /** The PromQL, URL-encoded (Prometheus: `g0.expr={{query}}`). */
  query: (v) => encodeURIComponent(v.query),
  /** The PromQL escaped for a JSON string, then URL-encoded (Grafana's `left=` JSON). */
  queryJson: (v) => encodeURIComponent(JSON.stringify(v.query).slice(1, -1)),
  from: (v) => String(v.from),
  to: (v) => String(v.to),
  fromMs: (v) => String(v.from * 1000),
  toMs: (v) => String(v.to * 1000),
  fromIso: (v) => encodeURIComponent(new Date(v.from * 1000).toISOString()),
  toIso: (v) => encodeURIComponent(new Date(v.to * 1000).toISOString()),
  /** Seconds the range spans (Prometheus: `g0.range_input={{range}}s`). */
  range: (v) => String(v.to - v.from),
  step: (v) => String(v.step),
};

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** A checked template (see parseExploreTemplate). */
export interface ExploreTemplate {
  readonly text: string;
}

/** An invalid `--explore-url`; the message says why. */
export class ExploreTemplateError extends Error {
  override readonly name = 'ExploreTemplateError';
}

/** Fills a template; the caller has checked it with parseExploreTemplate. */
export function renderExploreUrl(template: ExploreTemplate, values: ExploreValues): string {
  return template.text.replace(PLACEHOLDER, (_all, name: string) => PLACEHOLDERS[name](values));
}

/** Checks a template: known placeholders only, and an absolute http(s) URL once filled. */
export function parseExploreTemplate(text: string): ExploreTemplate {
  for (const [, name] of text.matchAll(PLACEHOLDER)) {
    if (!(name in PLACEHOLDERS)) {
      throw new ExploreTemplateError(
        `--explore-url: unknown placeholder {{${name}}}; known: ` +
          Object.keys(PLACEHOLDERS)
            .map((p) => `{{${p}}}`)
            .join(', '),
      );
    }
  }
  const template = { text };
  const sample = renderExploreUrl(template, { query: 'up{job="x"}', from: 0, to: 3600, step: 60 });
  let url: URL;
  try {
    url = new URL(sample);
  } catch {
    throw new ExploreTemplateError('--explore-url must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ExploreTemplateError(
      `--explore-url must be an http or https URL, not ${url.protocol.replace(/:$/, '')}`,
    );
  }
  return template;
}
