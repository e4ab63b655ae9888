/**
 * `npm run bench`, "New sessions arriving together": what a burst of first requests costs
 * the Argo CD API and the identity provider. A fresh sidecar in front of the Argo CD
 * stand-in (answering after a fixed delay, as a busy argocd-server would) and a real OIDC
 * provider; each scenario uses tokens the sidecar has never seen:
 * - one user's 100 parallel first requests: identical lookups are coalesced into one;
 * - 199 new local users at once: one application lookup per user, no more;
 * - 100 new SSO users at once: one discovery and one key fetch in all.
 * Budgets: those counts, and the new users' p95 at most 3x the stand-in's own p95 for the
 * same burst sent to it directly (measured in the same run).
 */
import http from 'http';
import { EchoBackend } from '../../test/helpers/echo-backend';
import { defaultProject, FakeArgoCD, guestbook } from '../../test/helpers/fake-argocd';
import { localSession, TEST_SERVER_SECRET } from '../../test/helpers/local-tokens';
import { ArgoCDConfig } from '../../test/helpers/mounted-dir';
import { startOidcProvider } from '../../test/helpers/oidc';
import { SidecarProcess } from '../../test/helpers/sidecar-process';
import { fmt, percentile, table } from './report';
import { APP_HEADERS } from './sidecar-setup';

/** How long the stand-in takes to answer each Argo CD API call (milliseconds). */
const STANDIN_DELAY_MS = 20;
/** The Argo CD URL its SSO tokens are issued for (Dex behind /api/dex, as Argo CD serves it). */
const ARGOCD_URL = 'https://argocd.bench.test';

export const SESSION_BUDGET = {
  /** Argo CD application lookups for one user's parallel first requests. */
  sameUserLookups: 1,
  /** Application lookups per new user's first request. */
  lookupsPerNewUser: 1,
  /** Discovery documents and key sets fetched for a burst of new SSO users. */
  discovery: 1,
  keyFetches: 1,
  /** New users' p95, against the stand-in's own p95 for the same burst. */
  p95VsStandin: 3,
};

interface Timed {
  status: number;
  ms: number;
}

/** One GET on its own connection (a new browser session opens its own). */
function timedGet(url: string, headers: http.OutgoingHttpHeaders): Promise<Timed> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        }),
      );
    });
    req.on('error', reject);
  });
}

export interface SessionsReport {
  text: string;
  failures: string[];
}

/** Runs the three bursts against a fresh sidecar; the table and the budgets missed. */
export async function benchNewSessions(): Promise<SessionsReport> {
  const failures: string[] = [];
  const argocd = new FakeArgoCD();
  const backend = new EchoBackend();
  const dex = await startOidcProvider({
    mountPath: '/api/dex',
    issuerOrigin: ARGOCD_URL,
    clients: [{ client_id: 'argo-cd' }],
  });
  let sidecar: SidecarProcess | undefined;
  let config: ArgoCDConfig | undefined;
  try {
    await backend.start();
    await argocd.start();
    argocd.setApplications([guestbook(['*'])]);
    argocd.setProjects([defaultProject()]);
    argocd.delayMs = STANDIN_DELAY_MS;
    config = new ArgoCDConfig({
      cm: {
        url: ARGOCD_URL,
        'dex.config': 'connectors: []\n',
        'extension.config.bench': `services:\n- url: ${backend.url}/\n`,
      },
      rbac: {
        'policy.csv': 'p, role:everyone, extensions, invoke, bench, allow',
        'policy.default': 'role:everyone',
      },
      secret: { 'server.secretkey': TEST_SERVER_SECRET },
    });
    sidecar = new SidecarProcess([
      ...config.flags,
      ...argocd.sidecarFlags(),
      '--dex-server',
      dex.url,
      '--namespace',
      'argocd',
    ]);
    await sidecar.start();
    const url = `${sidecar.url}/extensions/bench/x`;
    const lookups = () =>
      argocd.requests.filter((r) => r.path.startsWith('/api/v1/applications/')).length;
    const burst = (tokens: string[]) =>
      Promise.all(
        tokens.map((token) => timedGet(url, { cookie: `argocd.token=${token}`, ...APP_HEADERS })),
      );
    const failed = (results: Timed[]) => results.filter((r) => r.status !== 200).length;

    // The stand-in's own answer to the same burst, sent to it directly.
    const direct = await Promise.all(
      Array.from({ length: 199 }, (_, i) =>
        timedGet(`${argocd.url}/api/v1/applications/guestbook?appNamespace=argocd`, {
          authorization: `Bearer ${localSession(`direct-${i}`)}`,
        }),
      ),
    );
    const standinP95 = percentile(
      direct.map((r) => r.ms),
      0.95,
    );

    let before = lookups();
    const oneUser = localSession('one-user');
    const same = await burst(Array.from({ length: 100 }, () => oneUser));
    const sameLookups = lookups() - before;

    before = lookups();
    const users = await burst(Array.from({ length: 199 }, (_, i) => localSession(`new-${i}`)));
    const usersLookups = lookups() - before;

    const idTokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        dex.issueIdToken({ sub: `sso-${i}`, email: `sso-${i}@example.com`, groups: [] }),
      ),
    );
    before = lookups();
    const sso = await burst(idTokens);
    const ssoLookups = lookups() - before;
    const fetched = await dex.fetchCounts();

    const errors = failed(same) + failed(users) + failed(sso) + failed(direct);
    if (errors > 0) failures.push(`new sessions: ${errors} requests did not get 200`);
    if (sameLookups > SESSION_BUDGET.sameUserLookups) {
      failures.push(
        `one user's 100 parallel first requests made ${sameLookups} Argo CD lookups (budget ${SESSION_BUDGET.sameUserLookups})`,
      );
    }
    const perUser = usersLookups / users.length;
    if (perUser > SESSION_BUDGET.lookupsPerNewUser) {
      failures.push(
        `199 new users made ${fmt(perUser, 2)} Argo CD lookups each (budget ${SESSION_BUDGET.lookupsPerNewUser})`,
      );
    }
    if (fetched.discovery > SESSION_BUDGET.discovery || fetched.jwks > SESSION_BUDGET.keyFetches) {
      failures.push(
        `100 new SSO users: ${fetched.discovery} discovery and ${fetched.jwks} key fetches (budget ${SESSION_BUDGET.discovery} and ${SESSION_BUDGET.keyFetches})`,
      );
    }
    const usersP95 = percentile(
      users.map((r) => r.ms),
      0.95,
    );
    const p95Ratio = usersP95 / standinP95;
    if (!(p95Ratio <= SESSION_BUDGET.p95VsStandin)) {
      failures.push(
        `199 new users' p95 ${fmt(usersP95, 1)} ms is ${fmt(p95Ratio, 2)}x the stand-in's own ${fmt(standinP95, 1)} ms (budget <= ${SESSION_BUDGET.p95VsStandin}x)`,
      );
    }
    const row = (
      what: string,
      results: Timed[],
      calls: string,
      perRequest: string,
      budget: string,
      pass: boolean,
    ) => [
      what,
      String(results.length),
      calls,
      perRequest,
      fmt(
        percentile(
          results.map((r) => r.ms),
          0.95,
        ),
        1,
      ),
      budget,
      pass ? 'pass' : 'MISS',
    ];
    const text =
      `\nNew sessions arriving together (fresh sidecar; the Argo CD stand-in answers in ${STANDIN_DELAY_MS} ms, ` +
      `its own p95 for 199 parallel calls ${fmt(standinP95, 1)} ms)\n` +
      table(
        ['burst', 'requests', 'Argo CD / IdP calls', 'per request', 'p95 ms', 'budget', ''],
        [
          row(
            'one user, 100 parallel first requests',
            same,
            `${sameLookups} lookup${sameLookups === 1 ? '' : 's'}`,
            fmt(sameLookups / same.length, 2),
            `${SESSION_BUDGET.sameUserLookups} lookup`,
            sameLookups <= SESSION_BUDGET.sameUserLookups,
          ),
          row(
            '199 new users at once',
            users,
            `${usersLookups} lookups`,
            fmt(perUser, 2),
            `<= 1.00 each; p95 <= ${SESSION_BUDGET.p95VsStandin}x stand-in (${fmt(p95Ratio, 2)}x)`,
            perUser <= SESSION_BUDGET.lookupsPerNewUser && p95Ratio <= SESSION_BUDGET.p95VsStandin,
          ),
          row(
            '100 new SSO users at once',
            sso,
            `${ssoLookups} lookups, ${fetched.discovery} discovery, ${fetched.jwks} key set`,
            fmt(ssoLookups / sso.length, 2),
            '1 discovery, 1 key fetch',
            fetched.discovery <= SESSION_BUDGET.discovery &&
              fetched.jwks <= SESSION_BUDGET.keyFetches,
          ),
        ],
      );
    return { text, failures };
  } finally {
    await sidecar?.stop();
    config?.remove();
    await Promise.all([argocd.stop(), backend.stop(), dex.stop()]);
  }
}
