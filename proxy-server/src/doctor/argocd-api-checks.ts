/**
 * `doctor`'s checks of the destination check's setup: the extension proxy reads AppProjects
 * and Argo CD's cluster list with an Argo CD account of its own (--argocd-token-file), which
 * must be declared with `apiKey` in argocd-cm and may `projects, get` and `clusters, get`
 * (policy.extension-proxy.csv). Without a working account every extension request gets 503.
 */
import { readFileSync } from 'fs';
import { ArgoCDApi, argoCDErrorMessage, ArgoCDConnectionOptions } from '../argocd/argocd-api';
import { createEnforcer, Enforcer, Permission } from '../rbac/enforcer';
import { RbacConfig } from '../rbac/rbac-config';
import type { Level } from './checks';

/** The account the install step creates. */
export const EXTENSION_PROXY_ACCOUNT = 'extension-proxy';

const AREA = 'destination-check';
const INSTALL_STEP = 'docs/install.md, "The extension proxy\'s Argo CD account"';

export interface ArgoCDAccountCheckOptions {
  /** argocd-cm, when it could be read. */
  cm?: Record<string, string>;
  /** The parsed argocd-rbac-cm, when it could be read and is valid. */
  rbac?: RbacConfig;
  /** --argocd-token-file. */
  tokenFile?: string;
  /** --argocd-server and its TLS flags, with doctor's --timeout. */
  connection: ArgoCDConnectionOptions;
  /** Do not call the Argo CD API. */
  noNetwork: boolean;
}

type Add = (level: Level, area: string, message: string, fix?: string) => void;

/** Objects no policy names: an allow for them is an allow for every project or cluster. */
const ANY_PROJECT = 'doctor-probe-project-7f3a';
const ANY_SERVER = 'https://doctor-probe-7f3a.invalid';

/** What the account needs, and the objects that show it has it for every project/cluster. */
const NEEDED: Array<{ permission: Permission; objects: string[] }> = [
  { permission: { resource: 'projects', action: 'get' }, objects: ['default', ANY_PROJECT] },
  {
    // server/cluster/cluster.go CreateClusterRBACObject: `<server>`, or `<project>/<server>`
    // for a project-scoped cluster.
    permission: { resource: 'clusters', action: 'get' },
    objects: ['https://kubernetes.default.svc', ANY_SERVER, `${ANY_PROJECT}/${ANY_SERVER}`],
  },
];

/** More than it needs: what a leaked token could then do. */
const MORE_THAN_NEEDED: Array<{ permission: Permission; object: string }> = [
  { permission: { resource: 'applications', action: 'get' }, object: `${ANY_PROJECT}/x` },
  { permission: { resource: 'applications', action: 'sync' }, object: `${ANY_PROJECT}/x` },
  { permission: { resource: 'clusters', action: 'update' }, object: ANY_SERVER },
  { permission: { resource: 'projects', action: 'update' }, object: ANY_PROJECT },
  { permission: { resource: 'accounts', action: 'update' }, object: ANY_PROJECT },
];

/** Reports on the account's token, its declaration, its policy and, unless told not to, the API. */
export async function checkArgoCDAccount(
  options: ArgoCDAccountCheckOptions,
  add: Add,
): Promise<void> {
  const token = readAccountToken(options.tokenFile, add);
  const account = token?.account ?? EXTENSION_PROXY_ACCOUNT;
  if (options.cm) checkAccountDeclared(options.cm, account, add);
  if (options.rbac) await checkAccountPolicy(options.rbac, account, add);
  if (token === undefined) return;
  if (options.noNetwork) {
    add('OK', AREA, 'the Argo CD API was not called (--no-network)');
    return;
  }
  await checkApi(options.connection, token.value, account, add);
}

/** The token in --argocd-token-file and the account its `sub` names, or undefined. */
function readAccountToken(
  file: string | undefined,
  add: Add,
): { value: string; account: string } | undefined {
  if (file === undefined) {
    add(
      'ERROR',
      AREA,
      'no --argocd-token-file: the sidecar cannot read projects and clusters, so every extension request gets 503',
      `create the account's token and the Secret argocd-extension-proxy-api-token, and give its path to --argocd-token-file (${INSTALL_STEP})`,
    );
    return undefined;
  }
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (err) {
    add(
      'ERROR',
      AREA,
      `cannot read --argocd-token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      `create the Secret argocd-extension-proxy-api-token with key token (${INSTALL_STEP}); it is mounted optional, so the sidecar starts without it and answers 503`,
    );
    return undefined;
  }
  // SECURITY: nothing below quotes the token; only its claims are named.
  const claims = decodeClaims(value);
  const sub = typeof claims?.sub === 'string' ? claims.sub : undefined;
  if (sub === undefined) {
    add(
      'ERROR',
      AREA,
      `${file} does not hold an Argo CD token`,
      `write the output of \`argocd account generate-token --account ${EXTENSION_PROXY_ACCOUNT}\` into the Secret's key token`,
    );
    return undefined;
  }
  if (typeof claims?.exp === 'number' && claims.exp * 1000 < Date.now()) {
    add(
      'ERROR',
      AREA,
      `the token in ${file} expired at ${new Date(claims.exp * 1000).toISOString()}`,
      `generate a new one (argocd account generate-token --account <name>) and update the Secret`,
    );
  }
  const [name, kind] = sub.split(':');
  const account = sub.startsWith('proj:') ? EXTENSION_PROXY_ACCOUNT : name;
  if (sub.startsWith('proj:') || kind !== 'apiKey') {
    add(
      'ERROR',
      AREA,
      `the token in ${file} is not an account's API key (its subject is ${sub})`,
      `use \`argocd account generate-token --account ${EXTENSION_PROXY_ACCOUNT}\`: a login session expires, and a project token cannot list clusters`,
    );
    return { value, account };
  }
  add('OK', AREA, `--argocd-token-file holds an API key of account ${name}`);
  if (name === 'admin') {
    add(
      'WARN',
      AREA,
      'the token is the admin account: the sidecar needs only projects, get and clusters, get',
      `create the account ${EXTENSION_PROXY_ACCOUNT} (${INSTALL_STEP}) and use its token`,
    );
  }
  return { value, account: name };
}

/** The payload of a JWT, unverified: only to say whose it is. */
function decodeClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * util/settings/accounts.go parseAccounts: `accounts.<name>` is a comma list of capabilities
 * (`login`, `apiKey`), `accounts.<name>.enabled` a Go boolean (default true; a value
 * strconv.ParseBool refuses makes Argo CD refuse every account).
 */
function checkAccountDeclared(cm: Record<string, string>, account: string, add: Add): void {
  const key = `accounts.${account}`;
  const declare = `add "${key}: apiKey" to argocd-cm (${INSTALL_STEP})`;
  if (account === 'admin') return;
  const capabilities = cm[key];
  if (capabilities === undefined) {
    add('ERROR', AREA, `argocd-cm does not declare the account ${account} (${key})`, declare);
    return;
  }
  const list = capabilities.split(',').map((c) => c.trim());
  if (!list.includes('apiKey')) {
    add(
      'ERROR',
      AREA,
      `argocd-cm ${key} is "${capabilities}": without apiKey, Argo CD refuses the account's tokens`,
      declare,
    );
    return;
  }
  const enabled = cm[`${key}.enabled`];
  if (enabled !== undefined) {
    const value = parseGoBool(enabled);
    if (value === undefined) {
      add(
        'ERROR',
        AREA,
        `argocd-cm ${key}.enabled is "${enabled}", which Argo CD cannot read (it then refuses every local account)`,
        'set it to "true" or "false", or remove it',
      );
      return;
    }
    if (!value) {
      add(
        'ERROR',
        AREA,
        `argocd-cm disables the account ${account} (${key}.enabled: "${enabled}")`,
        `remove ${key}.enabled`,
      );
      return;
    }
  }
  if (list.includes('login')) {
    add(
      'WARN',
      AREA,
      `argocd-cm ${key} also has login: the account needs only apiKey`,
      `set "${key}: apiKey"`,
    );
  }
  add('OK', AREA, `argocd-cm declares the account ${account} with apiKey`);
}

/** strconv.ParseBool. */
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** The account's grants, decided by the sidecar's enforcer over the same policy. */
async function checkAccountPolicy(rbac: RbacConfig, account: string, add: Add): Promise<void> {
  const who = { subject: account, groups: [] };
  const grant = (p: Permission) => `p, ${account}, ${p.resource}, ${p.action}, *, allow`;
  for (const { permission, objects } of NEEDED) {
    const enforcer = await createEnforcer(rbac, permission);
    const allowed = objects.filter((o) => enforcer.canInvoke(who, o));
    const what = `${permission.resource}, ${permission.action}`;
    if (allowed.length === objects.length) {
      add('OK', AREA, `the policy lets account ${account} ${what} on every object`);
      continue;
    }
    if (allowed.length === 0) {
      add(
        'ERROR',
        AREA,
        `the policy does not let account ${account} ${what}: every extension request will get 503`,
        `add "${grant(permission)}" to policy.extension-proxy.csv in argocd-rbac-cm`,
      );
      continue;
    }
    // Projects narrowed: requests for applications in the other projects get 503. Clusters
    // narrowed: the list hides clusters, so destinations resolve differently than in Argo CD
    // (a hidden cluster with the same name as a listed one makes a name look unique).
    add(
      permission.resource === 'clusters' ? 'ERROR' : 'WARN',
      AREA,
      `the policy lets account ${account} ${what} only on some objects` +
        (permission.resource === 'clusters'
          ? ": Argo CD's cluster list leaves the others out, so destinations cannot be resolved as Argo CD resolves them"
          : ': requests for applications in the other projects get 503'),
      `grant "${grant(permission)}"`,
    );
  }
  const extra: string[] = [];
  for (const { permission, object } of MORE_THAN_NEEDED) {
    const enforcer: Enforcer = await createEnforcer(rbac, permission);
    if (enforcer.canInvoke(who, object)) extra.push(`${permission.resource}, ${permission.action}`);
  }
  if (extra.length > 0) {
    add(
      'WARN',
      AREA,
      `account ${account} may also ${extra.join('; ')}: it needs only projects, get and clusters, get`,
      `give it no role and no other lines than those of policy.extension-proxy.csv (check policy.default, which applies to it too)`,
    );
  }
}

/** GET /api/v1/clusters and GET /api/v1/projects/default with the token, as the sidecar asks. */
async function checkApi(
  connection: ArgoCDConnectionOptions,
  token: string,
  account: string,
  add: Add,
): Promise<void> {
  let api: ArgoCDApi;
  try {
    api = new ArgoCDApi(connection);
  } catch (err) {
    add('ERROR', AREA, (err as Error).message, 'fix --argocd-server and its TLS flags');
    return;
  }
  const where = api.url;
  try {
    const clusters = await api.get('/api/v1/clusters', token);
    if (clusters.status === 200) {
      const count = countItems(clusters.body);
      if (count === undefined) {
        add(
          'ERROR',
          AREA,
          `${where}api/v1/clusters did not answer a cluster list`,
          'check --argocd-server',
        );
      } else if (count === 0) {
        add(
          'ERROR',
          AREA,
          `Argo CD lists no clusters to account ${account}: every extension request will get 503`,
          `add "p, ${account}, clusters, get, *, allow" to policy.extension-proxy.csv`,
        );
      } else add('OK', AREA, `Argo CD lists ${count} cluster(s) to account ${account}`);
    } else reportRefusal(clusters.status, clusters.body, 'GET /api/v1/clusters', account, add);

    const project = await api.get('/api/v1/projects/default', token);
    if (project.status === 200) {
      add('OK', AREA, `Argo CD lets account ${account} read project default`);
    } else if (project.status === 404) {
      add(
        'WARN',
        AREA,
        'Argo CD has no project default (argocd-server creates it at start)',
        'nothing to do if you deleted it on purpose',
      );
    } else
      reportRefusal(project.status, project.body, 'GET /api/v1/projects/default', account, add);
  } catch (err) {
    add(
      'ERROR',
      AREA,
      `cannot reach the Argo CD API at ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check --argocd-server, --argocd-server-ca (run doctor in the sidecar container to test its path)',
    );
  } finally {
    api.close();
  }
}

function reportRefusal(
  status: number,
  body: string,
  call: string,
  account: string,
  add: Add,
): void {
  const said = argoCDErrorMessage(body);
  const answer = `${call} answered ${status}${said ? ` (${said})` : ''}`;
  if (status === 401) {
    add(
      'ERROR',
      AREA,
      `Argo CD refused the token: ${answer}`,
      `generate a new token (argocd account generate-token --account ${account}) and update the Secret argocd-extension-proxy-api-token`,
    );
  } else if (status === 403) {
    add(
      'ERROR',
      AREA,
      `Argo CD denied account ${account}: ${answer}`,
      `add policy.extension-proxy.csv to argocd-rbac-cm (${INSTALL_STEP})`,
    );
  } else {
    add('ERROR', AREA, answer, "check --argocd-server and argocd-server's log");
  }
}

function countItems(body: string): number | undefined {
  try {
    const items = (JSON.parse(body) as { items?: unknown }).items;
    return Array.isArray(items) ? items.length : undefined;
  } catch {
    return undefined;
  }
}
