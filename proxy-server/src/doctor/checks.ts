import { request as httpRequest } from 'http';
import { request as httpsRequest } from 'https';
import { ConfigDirError, readConfigDir } from '../config/config-dir';
import { parseExtensionConfigs } from '../config/extension-config';
import { SERVER_SECRET_KEY } from '../config/settings';
import { ExtensionConfig } from '../config/types';
import { resolveSsoIssuer } from '../auth/sso-settings';
import { createEnforcer, Enforcer, loadPolicyRules } from '../rbac/enforcer';
import { parseRbacConfigMap, RbacConfig } from '../rbac/rbac-config';
import { ArgoCDConnectionOptions } from '../argocd/argocd-api';
import { checkArgoCDAccount } from './argocd-api-checks';

export type Level = 'OK' | 'WARN' | 'ERROR';

/** One line of `doctor` output. */
export interface Finding {
  level: Level;
  area: string;
  message: string;
  /** What to do about it (WARN and ERROR). */
  fix?: string;
}

export interface DoctorOptions {
  argocdCmDir: string;
  argocdRbacCmDir: string;
  argocdSecretDir: string;
  /** Skip backend reachability (no connections are made). */
  noNetwork: boolean;
  /** Per-backend timeout for the reachability check. */
  timeoutMs: number;
  dexServer: string;
  /** The Argo CD API and the extension proxy's account token: the destination check's setup. */
  argocd?: { connection: ArgoCDConnectionOptions; tokenFile?: string };
}

/** Group names that usually mean "every signed-in user" in an identity provider. */
const EVERYONE_GROUPS = new Set([
  'authenticated',
  'system:authenticated',
  'everyone',
  'all',
  'users',
  'all users',
  'domain users',
]);

/** A subject name no policy can have meant: what "any user" looks like to the policy. */
const ANYONE = 'doctor-probe-any-user-7f3a';

/**
 * Checks a configuration the way the sidecar would load it (the same parsers, the same
 * enforcer), and explains the result: what is broken, who can invoke what, what looks like
 * a typo, and which backends answer.
 */
export async function runChecks(options: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (level: Level, area: string, message: string, fix?: string) =>
    findings.push({ level, area, message, fix });
  const read = async (dir: string, name: string): Promise<Record<string, string> | undefined> => {
    try {
      return await readConfigDir(dir);
    } catch (err) {
      const message = err instanceof ConfigDirError ? err.message : String(err);
      add('ERROR', name, message, `mount ${name} at ${dir} (one file per key)`);
      return undefined;
    }
  };
  const cm = await read(options.argocdCmDir, 'argocd-cm');
  const rbacCm = await read(options.argocdRbacCmDir, 'argocd-rbac-cm');
  const secret = await read(options.argocdSecretDir, 'argocd-secret');

  if (secret) {
    if (secret[SERVER_SECRET_KEY]) add('OK', 'argocd-secret', `${SERVER_SECRET_KEY} is set`);
    else {
      add(
        'ERROR',
        'argocd-secret',
        `${SERVER_SECRET_KEY} is missing or empty: no local session can be verified`,
        'mount the real argocd-secret (argocd-server creates server.secretkey at first start)',
      );
    }
  }

  let extensions = new Map<string, ExtensionConfig>();
  if (cm && secret) {
    const parsed = parseExtensionConfigs(cm, secret);
    for (const problem of parsed.problems) {
      add(
        'ERROR',
        'argocd-cm',
        problem,
        'fix the extension entry; until then a running sidecar keeps its previous extension.config, and a starting one refuses to start',
      );
    }
    for (const warning of parsed.warnings) {
      add('WARN', 'argocd-cm', warning, 'remove the field or correct its name');
    }
    extensions = parsed.extensions;
    for (const extension of extensions.values()) {
      for (const problem of extension.unavailable ?? []) {
        add(
          'ERROR',
          'argocd-secret',
          problem,
          `add the key to argocd-secret; until then requests to extension ${extension.name} get 503 (the other extensions are unaffected)`,
        );
      }
    }
    if (parsed.problems.length === 0) {
      if (extensions.size === 0) {
        add(
          'WARN',
          'argocd-cm',
          'no extension.config key: every extension request will get 404',
          'add extension.config (see the README configuration reference)',
        );
      } else add('OK', 'argocd-cm', `extensions configured: ${[...extensions.keys()].join(', ')}`);
    }
    const sso = resolveSsoIssuer(cm, { dexServer: options.dexServer, secrets: secret });
    for (const problem of sso.problems) {
      add(
        'ERROR',
        'sso',
        problem,
        'fix oidc.config / dex.config in argocd-cm; until then the sidecar refuses SSO sessions',
      );
    }
    if (sso.problems.length === 0) {
      add(
        'OK',
        'sso',
        sso.issuer
          ? `SSO tokens from ${sso.issuer.issuer}`
          : 'no SSO configured (local users only)',
      );
    }
  }

  let rbac: RbacConfig | undefined;
  if (rbacCm) {
    const parsed = await parseRbacConfigMap(rbacCm);
    for (const problem of parsed.problems) {
      add(
        'ERROR',
        'argocd-rbac-cm',
        problem,
        'fix the policy; until then the sidecar denies every extension request, as Argo CD denies with a policy it cannot load',
      );
    }
    rbac = parsed.config;
    if (rbac) add('OK', 'argocd-rbac-cm', `policy parsed (match mode ${rbac.matchMode})`);
  }
  if (rbac && extensions.size > 0) await checkPermissions(rbac, extensions, add);
  if (options.argocd) {
    await checkArgoCDAccount({ cm, rbac, ...options.argocd, noNetwork: options.noNetwork }, add);
  }

  for (const extension of extensions.values()) {
    for (const service of extension.backend.services) {
      const where = `extension ${extension.name}, ${service.url.origin}${service.url.pathname}`;
      if (service.delegate) {
        add(
          'OK',
          'backend',
          `${where}: through delegate ${service.delegate} (not checked from here)`,
        );
        continue;
      }
      if (options.noNetwork) {
        add('OK', 'backend', `${where}: not checked (--no-network)`);
        continue;
      }
      const result = await probe(service.url, options.timeoutMs, service.tls?.insecureSkipVerify);
      if (result.ok) add('OK', 'backend', `${where}: answers (HTTP ${result.status})`);
      else {
        add(
          'WARN',
          'backend',
          `${where}: cannot be reached from here (${result.error})`,
          'check the URL, the Service and its port, and NetworkPolicies (run doctor in the sidecar container to test its path)',
        );
      }
    }
  }
  return findings;
}

/**
 * Who can invoke each extension (the enforcer asked about every subject and group the
 * policy names), extensions nobody can invoke, and grants to everyone.
 */
async function checkPermissions(
  rbac: RbacConfig,
  extensions: Map<string, ExtensionConfig>,
  add: (level: Level, area: string, message: string, fix?: string) => void,
): Promise<void> {
  const enforcer: Enforcer = await createEnforcer(rbac);
  const subjects = new Set<string>();
  const groups = new Set<string>();
  for (const rule of await loadPolicyRules(rbac)) {
    const first = rule.values[0];
    if (first.includes('*') && rule.values[1] !== undefined) {
      add(
        'WARN',
        'rbac',
        `"${rule.ptype}, ${rule.values.join(', ')}": a subject is matched literally, so "${first}" matches only a user or group with that exact name`,
        'name the role, user or group; to grant every user, use policy.default (deliberately)',
      );
    }
    // A group that every signed-in user has, given a role: everyone gets what it grants.
    if (rule.ptype === 'g' && EVERYONE_GROUPS.has(first.toLowerCase())) {
      add(
        'WARN',
        'rbac',
        `"g, ${rule.values.join(', ')}": "${first}" looks like a group every user is in, so every user gets ${rule.values[1]}`,
        'assign the role to a specific group; to grant every user deliberately, use policy.default',
      );
    }
    // Roles are not people: they are reached through the users and groups assigned to them.
    if (first.startsWith('role:')) continue;
    subjects.add(first);
    // A g line's member is a user or an SSO group; both are asked about.
    if (rule.ptype === 'g') groups.add(first);
  }
  for (const name of extensions.keys()) {
    if (enforcer.canInvoke({ subject: ANYONE, groups: [] }, name)) {
      add(
        'WARN',
        'rbac',
        `every authenticated user can invoke extension ${name}: policy.default (${rbac.policyDefault}) grants it`,
        `if that is not intended, grant extensions, invoke, ${name} to a role and assign the role with g lines`,
      );
      continue;
    }
    // A name may be a local user, an SSO user id or a group: asked about as each.
    const who = [...subjects]
      .filter(
        (s) =>
          enforcer.canInvoke({ subject: s, groups: [] }, name) ||
          (groups.has(s) && enforcer.canInvoke({ subject: ANYONE, groups: [s] }, name)),
      )
      .sort();
    if (who.length === 0) {
      add(
        'WARN',
        'rbac',
        `nobody can invoke extension ${name} (Argo CD's built-in policy grants no extensions)`,
        `add e.g. "p, role:admin, extensions, invoke, ${name}, allow" to policy.csv`,
      );
      continue;
    }
    add('OK', 'rbac', `extension ${name} can be invoked by ${who.join(', ')} (users or groups)`);
  }
}

/** Any HTTP answer counts as reachable; only a failed connection or a timeout does not. */
function probe(
  url: URL,
  timeoutMs: number,
  insecure = false,
): Promise<{ ok: true; status: number } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', timeout: timeoutMs, rejectUnauthorized: !insecure });
    req.on('response', (res) => {
      res.resume();
      resolve({ ok: true, status: res.statusCode ?? 0 });
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ok: false, error: err.code ?? err.message }),
    );
    req.end();
  });
}

/** One finding as a line: `LEVEL area: message — fix: ...`. */
export function formatFinding(f: Finding): string {
  return `${f.level.padEnd(5)} ${f.area}: ${f.message}${f.fix && f.level !== 'OK' ? ` — fix: ${f.fix}` : ''}`;
}
