import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  escapePromqlString,
  quoteRegex,
} from '../../../../backends/anomaly-detection/src/sources/promql';
import {
  checkTemplate,
  DEFAULT_QUERIES,
  loadMetricQueries,
  mergeMetricQueries,
  NAME_PATTERN_FALLBACK,
  ownershipCheckQuery,
  QueriesFileError,
  renderQuery,
  SUPPORTED_KINDS,
} from '../../../../backends/anomaly-detection/src/sources/metric-queries';

/** The string literals of a PromQL expression, decoded; and the text outside them. */
function splitLiterals(query: string): { literals: string[]; outside: string } {
  const literals: string[] = [];
  let outside = '';
  for (let i = 0; i < query.length; i++) {
    if (query[i] !== '"') {
      outside += query[i];
      continue;
    }
    let literal = '';
    for (i++; query[i] !== '"'; i++) {
      if (i >= query.length) throw new Error(`unterminated string in ${query}`);
      if (query[i] !== '\\') {
        literal += query[i];
        continue;
      }
      i++;
      const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t' };
      if (query[i] === 'x') {
        literal += String.fromCharCode(parseInt(query.slice(i + 1, i + 3), 16));
        i += 2;
      } else literal += simple[query[i]] ?? query[i];
    }
    literals.push(literal);
    outside += '""';
  }
  return { literals, outside };
}

const HOSTILE = [
  'a"}) or vector(1) #',
  'back\\slash',
  'new\nline',
  '.*',
  'x"} or up{job=~".+',
  'tab\tand\u0001control',
];

describe('escapePromqlString', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['a\u0001b', 'a\\x01b'],
  ])('escapes %j as %j', (input, expected) => {
    expect(escapePromqlString(input)).toBe(expected);
  });
});

describe('quoteRegex', () => {
  it('escapes every RE2 metacharacter (Go regexp.QuoteMeta)', () => {
    expect(quoteRegex('a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o')).toBe(
      'a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o',
    );
  });

  it('quotes names so they match only themselves', () => {
    for (const name of ['guestbook.v2', '.*', 'a+b', 'x|y']) {
      const re = new RegExp(`^${quoteRegex(name)}$`);
      expect(re.test(name)).toBe(true);
      expect(re.test(`${name}x`)).toBe(false);
    }
    expect(new RegExp(`^${quoteRegex('.*')}$`).test('anything')).toBe(false);
  });
});

describe('renderQuery', () => {
  const vars = (name: string, namespace = 'guestbook') => ({
    name,
    namespace,
    rateIntervalSeconds: 300,
  });

  it('selects a Deployment’s pods by ownership: pod → ReplicaSet → Deployment', () => {
    const cpu = DEFAULT_QUERIES.Deployment.find((d) => d.metric === 'cpu');
    expect(renderQuery(cpu!.query, vars('guestbook-ui'))).toBe(
      'sum(rate(container_cpu_usage_seconds_total{namespace="guestbook", container!=""}[300s])' +
        ' and on (namespace, pod) (' +
        'label_replace(kube_pod_owner{namespace="guestbook", owner_kind="ReplicaSet"}, ' +
        '"replicaset", "$1", "owner_name", "(.*)") and on (namespace, replicaset) ' +
        'kube_replicaset_owner{namespace="guestbook", owner_kind="Deployment", owner_name="guestbook-ui"}))',
    );
    const rollout = DEFAULT_QUERIES.Rollout.find((d) => d.metric === 'cpu');
    expect(renderQuery(rollout!.query, vars('canary'))).toContain(
      'kube_replicaset_owner{namespace="guestbook", owner_kind="Rollout", owner_name="canary"}',
    );
  });

  it('selects a StatefulSet’s pods by kube_pod_owner, before sum and after rate', () => {
    const cpu = DEFAULT_QUERIES.StatefulSet.find((d) => d.metric === 'cpu');
    expect(renderQuery(cpu!.query, vars('web-db'))).toBe(
      'sum(rate(container_cpu_usage_seconds_total{namespace="guestbook", container!=""}[300s])' +
        ' and on (namespace, pod) (' +
        'kube_pod_owner{namespace="guestbook", owner_kind="StatefulSet", owner_name="web-db"}))',
    );
    const latency = DEFAULT_QUERIES.DaemonSet.find((d) => d.metric === 'latency');
    expect(renderQuery(latency!.query, vars('agent'))).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket' +
        '{namespace="guestbook"}[300s]) and on (namespace, pod) (' +
        'kube_pod_owner{namespace="guestbook", owner_kind="DaemonSet", owner_name="agent"})))',
    );
  });

  it('keeps the name-pattern queries as the fallback, and checks ownership with one bounded query', () => {
    const cpu = NAME_PATTERN_FALLBACK.Deployment!.queries.find((d) => d.metric === 'cpu');
    expect(renderQuery(cpu!.query, vars('guestbook-ui'))).toBe(
      'sum(rate(container_cpu_usage_seconds_total{namespace="guestbook", ' +
        'pod=~"guestbook-ui-[a-z0-9]+-[a-z0-9]+", container!=""}[300s]))',
    );
    expect(ownershipCheckQuery('Deployment', vars('guestbook-ui'), 1252800)).toBe(
      'count(last_over_time(kube_replicaset_owner{namespace="guestbook", ' +
        'owner_kind="Deployment", owner_name="guestbook-ui"}[1252800s]))',
    );
    expect(ownershipCheckQuery('StatefulSet', vars('web-db'), 99.5)).toBe(
      'count(last_over_time(kube_pod_owner{namespace="guestbook", ' +
        'owner_kind="StatefulSet", owner_name="web-db"}[100s]))',
    );
    // A Pod is its name and an Application is found by label: nothing to check.
    expect(ownershipCheckQuery('Pod', vars('web'), 100)).toBeUndefined();
    expect(ownershipCheckQuery('Application', vars('web'), 100)).toBeUndefined();
  });

  it('quotes regex metacharacters in names used in pod regexes', () => {
    const cpu = DEFAULT_QUERIES.Pod.find((d) => d.metric === 'cpu');
    const query = renderQuery(cpu!.query, vars('web.v1'));
    expect(query).toContain('pod=~"web\\\\.v1"');
    const { literals } = splitLiterals(query);
    expect(literals).toContain('web\\.v1');
  });

  it.each(SUPPORTED_KINDS.flatMap((kind) => HOSTILE.map((name) => [kind, name])))(
    'keeps a hostile name inside string literals (%s, %j)',
    (kind, name) => {
      const k = kind as keyof typeof DEFAULT_QUERIES;
      // The ownership queries, the name-pattern fallback and the ownership check alike.
      const templates = [...DEFAULT_QUERIES[k], ...(NAME_PATTERN_FALLBACK[k]?.queries ?? [])];
      const check = (n: string, ns: string) => ownershipCheckQuery(k, vars(n, ns), 3600);
      if (check('x', 'ns') !== undefined) {
        const safe = splitLiterals(check('x', 'ns')!);
        const hostile = splitLiterals(check(name, name)!);
        expect(hostile.outside).toBe(safe.outside);
        expect(hostile.literals).toContain(name);
      }
      for (const { query: template } of templates) {
        const safe = splitLiterals(renderQuery(template, vars('x', 'ns')));
        const hostile = splitLiterals(renderQuery(template, vars(name, name)));
        // The query's structure (everything outside string literals) does not change...
        expect(hostile.outside).toBe(safe.outside);
        // ...and the name survives as data: literally after =, regex-quoted after =~.
        expect(hostile.literals.some((l) => l === name || l.startsWith(quoteRegex(name)))).toBe(
          true,
        );
      }
    },
  );
});

describe('checkTemplate and mergeMetricQueries', () => {
  it('refuses placeholders outside string literals and unknown ones', () => {
    expect(checkTemplate('up{pod="{{name}}"}')).toEqual([]);
    expect(checkTemplate('up{pod={{name}}}')).toEqual([
      'must put {{name}} inside a double-quoted string',
    ]);
    expect(checkTemplate('up{pod="{{nmae}}"}')).toEqual(['uses unknown placeholder {{nmae}}']);
  });

  it('replaces the kinds a file names and keeps the others', () => {
    const merged = mergeMetricQueries('q.yaml', {
      Pod: [{ metric: 'cpu', label: 'CPU', unit: 'cores', query: 'up{pod="{{name}}"}' }],
    });
    expect(merged.Pod).toHaveLength(1);
    expect(merged.Deployment).toBe(DEFAULT_QUERIES.Deployment);
  });

  it('reports every problem at once with its path', () => {
    let error: unknown;
    try {
      mergeMetricQueries('q.yaml', {
        Service: [],
        Pod: [{ metric: 'cpu', label: '', unit: 'cores', query: 'up{pod={{name}}}' }, 7],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(QueriesFileError);
    expect((error as QueriesFileError).problems).toEqual([
      expect.stringMatching(/^Service: unsupported kind/),
      'Pod[0].label must be a non-empty string',
      'Pod[0].query must put {{name}} inside a double-quoted string',
      'Pod[1].metric must be a non-empty string',
      'Pod[1].label must be a non-empty string',
      'Pod[1].unit must be a non-empty string',
      'Pod[1].query must be a non-empty string',
    ]);
  });

  it('loads a YAML queries file, and names the file when it is not valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'queries-'));
    try {
      const file = join(dir, 'queries.yaml');
      writeFileSync(
        file,
        'StatefulSet:\n  - metric: connections\n    label: Connections\n    unit: conns\n' +
          '    query: sum(pg_stat_activity_count{namespace="{{namespace}}", pod=~"{{nameRegex}}-[0-9]+"})\n',
      );
      expect(loadMetricQueries(file).StatefulSet.map((d) => d.metric)).toEqual(['connections']);
      writeFileSync(file, 'Pod: [\n');
      expect(() => loadMetricQueries(file)).toThrow(QueriesFileError);
      expect(() => loadMetricQueries(file)).toThrow(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
