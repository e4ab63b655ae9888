import { readFile } from 'fs/promises';
import { describeError } from '../errors';
import { join } from 'path';
import { ConfigDirError, readConfigDir } from './config-dir';
import { parseExtensionConfigs } from './extension-config';
import { DELEGATE_NAME } from './extension-config-sidecar';
import { ExtensionConfig } from './types';
import { parseRbacConfigMap, RbacConfig } from '../rbac/rbac-config';
import { resolveSsoIssuer } from '../auth/sso-settings';
import { AuthSettings } from '../auth/session-authenticator';

/** argocd-secret key whose raw bytes sign local session tokens (Argo CD util/settings). */
export const SERVER_SECRET_KEY = 'server.secretkey';

/** The three mounted objects the sidecar reads, as Argo CD itself does. */
export interface ConfigSources {
  /** Mounted argocd-cm. Example: `/etc/argocd/argocd-cm` */
  argocdCmDir: string;
  /** Mounted argocd-rbac-cm. Example: `/etc/argocd/argocd-rbac-cm` */
  argocdRbacCmDir: string;
  /** Mounted argocd-secret. Example: `/etc/argocd/argocd-secret` */
  argocdSecretDir: string;
}

export interface SettingsOptions {
  /** Where Dex serves discovery and keys when `dex.config` is set. Example: `http://argocd-dex-server:5556` */
  dexServer: string;
}

/** One complete configuration: everything a request needs, from one reading. */
export interface ProxySettings {
  extensions: Map<string, ExtensionConfig>;
  /**
   * The policy, or undefined while argocd-rbac-cm cannot be loaded: then every invoke is
   * denied, as Argo CD denies with a policy it cannot load.
   */
  rbac?: RbacConfig;
  auth: AuthSettings;
  /**
   * Delegate agents that may connect: name → token (argocd-secret `delegate.<name>.token`).
   * Extension-proxy only.
   */
  delegateTokens: Map<string, string>;
  /** Every argocd-secret value: never to appear in a log line or a response. */
  secretValues: string[];
}

/** The three objects, by the names Argo CD gives them. */
export type ConfigObject = 'argocd-cm' | 'argocd-rbac-cm' | 'argocd-secret';
export const CONFIG_OBJECTS: readonly ConfigObject[] = [
  'argocd-cm',
  'argocd-rbac-cm',
  'argocd-secret',
];

/** The mounted objects as one reading found them; an object that could not be read is absent. */
export interface ConfigReading {
  cm?: Record<string, string>;
  rbacCm?: Record<string, string>;
  secret?: Record<string, string>;
  /** server.secretkey's raw bytes (Argo CD signs with the bytes, untrimmed). */
  secretKey?: Buffer;
  /** Why an object could not be read. */
  unreadable: Array<{ object: ConfigObject; message: string }>;
}

/** What is applied now, kept to fall back on when a later reading of an object is unusable. */
export interface AppliedConfig {
  settings: ProxySettings;
  cm: Record<string, string>;
  secret: Record<string, string>;
  secretKey: Buffer;
}

/** One problem in force, with what it does to requests. */
export interface ConfigProblem {
  object: ConfigObject;
  /** What happens because of it, e.g. "every extension request is denied". */
  effect: string;
  problems: string[];
}

export interface LoadResult {
  /**
   * The configuration to apply. Undefined only without a previous one to fall back on (at
   * start), when some object is unusable.
   */
  settings?: AppliedConfig;
  /** Problems in force, by object and effect; empty when everything is applied as it is. */
  problems: ConfigProblem[];
  warnings: string[];
}

/** Reads the three mounted objects off the event loop (a large policy is decoded in slices). */
export async function readConfigObjects(sources: ConfigSources): Promise<ConfigReading> {
  const unreadable: ConfigReading['unreadable'] = [];
  const read = async (
    dir: string,
    object: ConfigObject,
  ): Promise<Record<string, string> | undefined> => {
    try {
      return await readConfigDir(dir);
    } catch (err) {
      if (err instanceof ConfigDirError) {
        unreadable.push({ object, message: err.message });
        return undefined;
      }
      throw err;
    }
  };
  const cm = await read(sources.argocdCmDir, 'argocd-cm');
  const rbacCm = await read(sources.argocdRbacCmDir, 'argocd-rbac-cm');
  const secret = await read(sources.argocdSecretDir, 'argocd-secret');
  let secretKey: Buffer | undefined;
  if (secret?.[SERVER_SECRET_KEY]) {
    try {
      secretKey = await readFile(join(sources.argocdSecretDir, SERVER_SECRET_KEY));
    } catch (err) {
      // Swapped away between the two reads: the next change event reads it again.
      unreadable.push({
        object: 'argocd-secret',
        message: `cannot read ${SERVER_SECRET_KEY}: ${describeError(err)}`,
      });
    }
  }
  return { cm, rbacCm, secret, secretKey, unreadable };
}

/**
 * Reads and validates all three objects, and applies each on its own, as Argo CD does:
 * - argocd-rbac-cm: a valid policy always applies; one that cannot be loaded denies every
 *   invoke (fail closed).
 * - argocd-cm `extension.config*`: invalid keeps the previous extensions (Argo CD keeps its
 *   previous proxy registry); an extension whose `$key` or delegate token is missing from
 *   argocd-secret is unavailable (503) while the others work.
 * - argocd-cm SSO settings (`oidc.config`, `dex.config`): invalid refuses SSO sessions.
 * - argocd-secret without server.secretkey, or an object that cannot be read: the previous
 *   reading of it stays.
 * Without a previous configuration (at start) any problem leaves `settings` undefined, so the
 * operator fixes every problem, reported in one go, before the sidecar serves.
 */
export async function loadSettings(
  sources: ConfigSources,
  options: SettingsOptions,
  previous?: AppliedConfig,
): Promise<LoadResult> {
  return assembleSettings(await readConfigObjects(sources), options, previous);
}

async function assembleSettings(
  reading: ConfigReading,
  options: SettingsOptions,
  previous: AppliedConfig | undefined,
): Promise<LoadResult> {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const report = (object: ConfigObject, effect: string, list: string[]) => {
    if (list.length > 0) problems.push({ object, effect, problems: list });
  };
  const keepPrevious = previous
    ? 'the previous reading stays in force'
    : 'the sidecar cannot start';
  for (const { object, message } of reading.unreadable) {
    report(
      object,
      object === 'argocd-rbac-cm' ? 'every extension request is denied' : keepPrevious,
      [message],
    );
  }

  // argocd-secret: usable only with server.secretkey; otherwise the previous one stays.
  let secret = previous?.secret;
  let secretKey = previous?.secretKey;
  if (reading.secret) {
    if (reading.secretKey && reading.secretKey.length > 0) {
      secret = reading.secret;
      secretKey = reading.secretKey;
    } else if (!reading.unreadable.some((u) => u.object === 'argocd-secret')) {
      report('argocd-secret', keepPrevious, [
        `argocd-secret: ${SERVER_SECRET_KEY} is missing or empty`,
      ]);
    }
  }
  const cm = reading.cm ?? previous?.cm;

  // argocd-rbac-cm: on its own; a policy that cannot be loaded denies.
  let rbac: RbacConfig | undefined;
  if (reading.rbacCm) {
    const parsed = await parseRbacConfigMap(reading.rbacCm);
    report(
      'argocd-rbac-cm',
      'every extension request is denied',
      parsed.problems.map((p) => `argocd-rbac-cm: ${p}`),
    );
    rbac = parsed.config;
  }

  if (!cm) return { problems, warnings };
  // At start with an unusable argocd-secret, still parse, so every problem is reported at once.
  const secretData = secret ?? reading.secret ?? {};

  let extensions = previous?.settings.extensions;
  const parsed = parseExtensionConfigs(cm, secretData);
  warnings.push(...parsed.warnings.map((w) => `argocd-cm: ${w}`));
  if (parsed.problems.length > 0) {
    report(
      'argocd-cm',
      previous ? 'the previous extension.config stays in force' : 'the sidecar cannot start',
      parsed.problems.map((p) => `argocd-cm: ${p}`),
    );
  } else {
    extensions = parsed.extensions;
    if (extensions.size === 0) {
      warnings.push('argocd-cm: no extension.config key: every extension request will get 404');
    }
    for (const extension of extensions.values()) {
      report(
        'argocd-secret',
        `requests to extension ${extension.name} are refused (503)`,
        (extension.unavailable ?? []).map((p) => `argocd-cm: ${p}`),
      );
    }
  }

  const sso = resolveSsoIssuer(cm, { dexServer: options.dexServer, secrets: secretData });
  report(
    'argocd-cm',
    'SSO sessions are refused',
    sso.problems.map((p) => `argocd-cm: ${p}`),
  );

  if (!secret || !secretKey) return { problems, warnings };
  if (!extensions || (!previous && problems.length > 0)) return { problems, warnings };
  return {
    settings: {
      cm,
      secret,
      secretKey,
      settings: {
        extensions,
        rbac,
        auth: {
          secretKey,
          sso: sso.problems.length > 0 ? undefined : sso.issuer,
          // Without a policy every invoke is denied; groups then only reach the log.
          scopes: rbac?.scopes ?? previous?.settings.auth.scopes ?? ['groups'],
        },
        delegateTokens: readDelegateTokens(secret),
        secretValues: Object.values(secret).filter((v) => v.length > 0),
      },
    },
    problems,
    warnings,
  };
}

/** Every `delegate.<name>.token` key of argocd-secret with a usable name and a value. */
function readDelegateTokens(secret: Record<string, string>): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const [key, value] of Object.entries(secret)) {
    const match = /^delegate\.(.+)\.token$/.exec(key);
    // Surrounding whitespace (a trailing newline from `echo`) is not part of a token.
    const token = value.trim();
    if (match && DELEGATE_NAME.test(match[1]) && token !== '') tokens.set(match[1], token);
  }
  return tokens;
}
