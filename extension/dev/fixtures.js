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

const METRICS = [
  { metric: 'cpu', label: 'CPU', unit: 'cores', base: 0.25, amplitude: 0.08 },
  { metric: 'memory', label: 'Memory', unit: 'MiB', base: 180, amplitude: 12 },
  { metric: 'latency_p99', label: 'p99 latency', unit: 'ms', base: 120, amplitude: 25 },
];

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

/**
 * A response for the query. `anomalous` puts one anomalous CPU window at 60–70% of the
 * range; every series has a short gap (null points) at 30% to show gaps are drawn.
 */
function buildAnomalies(query, { anomalous = true, source = 'prometheus', empty = false } = {}) {
  const from = Number(query.from);
  const to = Number(query.to);
  const step = Math.max(Number(query.step) || 60, Math.ceil((to - from) / 500));
  const times = [];
  for (let t = from; t <= to; t += step) times.push(t);
  const span = to - from;
  const windowStart = from + Math.round(span * 0.6);
  const windowEnd = from + Math.round(span * 0.7);
  const inWindow = (t) => anomalous && t >= windowStart && t <= windowEnd;
  const inGap = (t) => t >= from + span * 0.3 && t < from + span * 0.33;
  const rnd = random(42);

  const series = METRICS.map((m) => ({
    metric: m.metric,
    label: m.label,
    unit: m.unit,
    points: times.map((t) => {
      if (empty || inGap(t)) return [t, null];
      const seasonal = Math.sin((t / 86400) * 2 * Math.PI) * m.amplitude;
      const noise = (rnd() - 0.5) * m.amplitude * 0.4;
      const spike = m.metric === 'cpu' && inWindow(t) ? m.base * 1.8 : 0;
      return [t, Number((m.base + seasonal + noise + spike).toFixed(3))];
    }),
  }));
  const scores = times.map((t) => {
    if (empty || inGap(t)) return [t, null];
    return [t, Number((inWindow(t) ? 8.1 - rnd() * 1.5 : 0.4 + rnd() * 1.2).toFixed(2))];
  });
  const values = scores.map(([, v]) => v).filter((v) => v !== null);
  const latest = values.length ? values[values.length - 1] : null;
  const max = values.length ? Math.max(...values) : null;
  const windows =
    anomalous && !empty ? [{ start: windowStart, end: windowEnd, score: max, metric: 'cpu' }] : [];
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
    case 'empty':
      return { status: 200, body: buildAnomalies(query, { empty: true }) };
    case 'slow':
      return { status: 200, body: buildAnomalies(query), delayMs: 1500 };
    default:
      return { status: 200, body: buildAnomalies(query) };
  }
}

module.exports = { answerAnomalies, buildAnomalies, ERROR_BODIES };
