// Answers GET /api/v1/anomalies as docs/anomaly-api.md specifies, from generated data,
// so the tab can be developed and tested before the backend exists.

/** Errors exactly as the sidecar sends them (README.md, "How a request is handled"). */
const ERROR_BODIES = {
  401: { error: 'unauthenticated: the session has expired', status: 401 },
  403: {
    error: 'permission denied: extensions, invoke, anomaly',
    status: 403,
    requiredPermission: 'extensions, invoke, anomaly',
    policy: 'p, alice, extensions, invoke, anomaly, allow',
  },
  404: { error: 'extension not found: anomaly', status: 404 },
  502: { error: 'bad gateway: the backend is unreachable', status: 502 },
  503: { error: 'service unavailable: delegate "private-net" is not connected', status: 503 },
  504: { error: 'gateway timeout: the backend did not answer in time', status: 504 },
};

const MIB = 1024 * 1024;
const METRICS = [
  { metric: 'cpu', label: 'CPU', unit: 'cores', base: 0.25, amplitude: 0.08 },
  { metric: 'memory', label: 'Memory', unit: 'bytes', base: 180 * MIB, amplitude: 12 * MIB },
  { metric: 'latency', label: 'Latency (p95)', unit: 'seconds', base: 0.12, amplitude: 0.025 },
];

/** What the backend renders for the sample workload (docs/anomaly-api.md, `query`). */
function queryOf(metric, ns, name) {
  const pods = `namespace="${ns}", pod=~"${name}-[a-z0-9]+-[a-z0-9]+"`;
  switch (metric) {
    case 'cpu':
      return `sum(rate(container_cpu_usage_seconds_total{${pods}, container!=""}[5m]))`;
    case 'memory':
      return `sum(container_memory_working_set_bytes{${pods}, container!=""})`;
    default:
      return `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${pods}}[5m])))`;
  }
}

/** A small deterministic pseudo-random sequence (mulberry32), so screenshots are stable. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v, digits = 4) => Number(v.toPrecision(digits));

/**
 * A response for the query. `anomalous` puts one anomalous CPU window at 60–70% of the
 * range (`ongoing`: from 85% to the end, still running); every series has a short gap (null
 * points) at 30% to show gaps are drawn. Each series carries its query, expectation, band
 * and scores, and the window its driver, as the backend sends them.
 */
function buildAnomalies(
  query,
  { anomalous = true, ongoing = false, source = 'prometheus', empty = false } = {},
) {
  const from = Number(query.from);
  const to = Number(query.to);
  const step = Math.max(Number(query.step) || 60, Math.ceil((to - from) / 500));
  const times = [];
  for (let t = from; t <= to; t += step) times.push(t);
  const span = to - from;
  const windowStart = from + Math.round(span * (ongoing ? 0.85 : 0.6));
  const windowEnd = ongoing ? to + step : from + Math.round(span * 0.7);
  const inWindow = (t) => anomalous && t >= windowStart && t < windowEnd;
  const inGap = (t) => t >= from + span * 0.3 && t < from + span * 0.33;
  const rnd = random(42);

  const scores = times.map((t) => {
    if (empty || inGap(t)) return [t, null];
    return [t, Number((inWindow(t) ? 8.1 - rnd() * 1.5 : 0.4 + rnd() * 1.2).toFixed(2))];
  });
  const series = METRICS.map((m) => {
    const expectedAt = (t) => m.base + Math.sin((t / 86400) * 2 * Math.PI) * m.amplitude;
    const points = times.map((t) => {
      if (empty || inGap(t)) return [t, null];
      const noise = (rnd() - 0.5) * m.amplitude * 0.4;
      const spike = m.metric === 'cpu' && inWindow(t) ? m.base * 1.6 : 0;
      return [t, round(expectedAt(t) + noise + spike)];
    });
    const judged = (t) => !empty && !inGap(t);
    return {
      metric: m.metric,
      label: m.label,
      unit: m.unit,
      query: queryOf(m.metric, query.namespace, query.name),
      points,
      scores:
        m.metric === 'cpu'
          ? scores
          : times.map((t, i) => [t, judged(t) ? 0.5 + (i % 7) / 10 : null]),
      expected: times.map((t) => [t, judged(t) ? round(expectedAt(t)) : null]),
      band: times.map((t) =>
        judged(t) ? [t, round(expectedAt(t) * 0.85), round(expectedAt(t) * 1.17)] : [t, null, null],
      ),
      history: {
        since: from - 14.5 * 86400,
        seconds: 14.5 * 86400,
        baselines: { seasonal: times.length, trend: 0 },
      },
      ...(m.metric === 'cpu'
        ? {
            exploreUrl:
              'https://prometheus.example.com/graph?g0.expr=' +
              encodeURIComponent(queryOf(m.metric, query.namespace, query.name)) +
              `&g0.range_input=${span}s&g0.end_input=${new Date(to * 1000).toISOString()}`,
          }
        : {}),
    };
  });
  const values = scores.map(([, v]) => v).filter((v) => v !== null);
  const latest = values.length ? values[values.length - 1] : null;
  const max = values.length ? Math.max(...values) : null;
  const cpu = series[0];
  const peakIndex = times.findIndex((t) => inWindow(t));
  const peak = times[peakIndex];
  const driver = peak !== undefined && {
    metric: 'cpu',
    score: max,
    peak,
    direction: 'up',
    observed: cpu.points[peakIndex][1],
    expected: cpu.expected[peakIndex][1],
    low: cpu.band[peakIndex][1],
    high: cpu.band[peakIndex][2],
    factor: round(cpu.points[peakIndex][1] / cpu.expected[peakIndex][1], 3),
    baseline: 'seasonal',
    query: cpu.query,
  };
  const windows =
    anomalous && !empty
      ? [
          {
            start: windowStart,
            end: Math.min(windowEnd, to + step),
            score: max,
            metric: 'cpu',
            drivers: [driver],
          },
        ]
      : [];
  return {
    resource: {
      group: query.group,
      kind: query.kind,
      namespace: query.namespace,
      name: query.name,
    },
    range: { from, to, step },
    source,
    summary: {
      state: empty ? 'unknown' : anomalous ? 'anomalous' : 'normal',
      score: latest,
      maxScore: max,
      anomalousWindows: windows.length,
    },
    series,
    scores,
    windows,
  };
}

/**
 * The answer for a request: `{status, body, delayMs}`. Checks what the sidecar checks
 * (the two Argocd-* headers) and what the backend checks (the query), so a request the
 * tab builds wrong fails here too.
 */
function answerAnomalies(query, headers, scenario) {
  if (
    !/^[^:]+:[^:]+$/.test(headers['argocd-application-name'] || '') ||
    !headers['argocd-project-name']
  ) {
    return {
      status: 400,
      body: { error: 'invalid Argocd-Application-Name or Argocd-Project-Name header', status: 400 },
    };
  }
  for (const key of ['group', 'kind', 'namespace', 'name', 'from', 'to']) {
    if (!(key in query))
      return { status: 400, body: { error: `missing query parameter: ${key}`, status: 400 } };
  }
  if (!(Number(query.from) < Number(query.to))) {
    return { status: 400, body: { error: 'from must be before to', status: 400 } };
  }
  if (ERROR_BODIES[scenario]) return { status: Number(scenario), body: ERROR_BODIES[scenario] };
  switch (scenario) {
    case 'sample':
      return { status: 200, body: buildAnomalies(query, { source: 'sample' }) };
    case 'normal':
      return { status: 200, body: buildAnomalies(query, { anomalous: false }) };
    case 'ongoing':
      return { status: 200, body: buildAnomalies(query, { ongoing: true }) };
    case 'empty':
      return { status: 200, body: buildAnomalies(query, { empty: true }) };
    case 'slow':
      return { status: 200, body: buildAnomalies(query), delayMs: 1500 };
    default:
      return { status: 200, body: buildAnomalies(query) };
  }
}

module.exports = { answerAnomalies, buildAnomalies, ERROR_BODIES };
