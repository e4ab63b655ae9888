import { readFileSync } from 'fs';
import { join } from 'path';
import { ConfigDirError, readConfigDirYielding } from './config-dir';
import { DELEGATE_NAME, parseExtensionConfigs } from './extension-config';
import { ExtensionConfig } from './types';
import { parseRbacConfigMapYielding, RbacConfig } from '../rbac/rbac-config';
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

/** One complete, validated configuration: everything a request needs, from one reading. */
export interface ProxySettings {
  extensions: Map<string, ExtensionConfig>;
  rbac: RbacConfig;
  auth: AuthSettings;
  /**
   * Delegate agents that may connect: name → token (argocd-secret `delegate.<name>.token`).
   * Extension-proxy only.
   */
  delegateTokens: Map<string, string>;
  /** Every argocd-secret value: never to appear in a log line or a response. */
  secretValues: string[];
}

export interface LoadResult {
  settings?: ProxySettings;
  /** Any problem rejects the whole reading; each names its object, key and path. */
  problems: string[];
  warnings: string[];
}

/**
 * Reads and validates all three objects. Collects every problem before giving up, so an
 * operator fixes them in one go; never returns a half-valid configuration. Async so that
 * files are read off the event loop and a large RBAC policy is decoded and parsed in slices
 * (requests keep flowing during a reload).
 */
export async function loadSettings(
  sources: ConfigSources,
  options: SettingsOptions,
): Promise<LoadResult> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const read = async (dir: string): Promise<Record<string, string> | undefined> => {
    try {
      return await readConfigDirYielding(dir);
    } catch (err) {
      if (err instanceof ConfigDirError) {
        problems.push(err.message);
        return undefined;
      }
      throw err;
    }
  };
  const cm = await read(sources.argocdCmDir);
  const rbacCm = await read(sources.argocdRbacCmDir);
  const secret = await read(sources.argocdSecretDir);
  if (!cm || !rbacCm || !secret) return { problems, warnings };

  const secretKey = secret[SERVER_SECRET_KEY];
  if (secretKey === undefined || secretKey === '') {
    problems.push(`argocd-secret: ${SERVER_SECRET_KEY} is missing or empty`);
  }

  const extensions = parseExtensionConfigs(cm, secret);
  problems.push(...extensions.problems.map((p) => `argocd-cm: ${p}`));
  warnings.push(...extensions.warnings.map((w) => `argocd-cm: ${w}`));
  if (extensions.extensions.size === 0 && extensions.problems.length === 0) {
    warnings.push('argocd-cm: no extension.config key: every extension request will get 404');
  }

  const rbac = await parseRbacConfigMapYielding(rbacCm);
  problems.push(...rbac.problems.map((p) => `argocd-rbac-cm: ${p}`));

  const sso = resolveSsoIssuer(cm, { dexServer: options.dexServer, secrets: secret });
  problems.push(...sso.problems.map((p) => `argocd-cm: ${p}`));

  if (problems.length > 0 || !rbac.config || secretKey === undefined) {
    return { problems, warnings };
  }
  return {
    settings: {
      extensions: extensions.extensions,
      rbac: rbac.config,
      auth: {
        // Argo CD signs with the raw bytes of the key, untrimmed: read them as bytes, not text.
        secretKey: readFileSync(join(sources.argocdSecretDir, SERVER_SECRET_KEY)),
        sso: sso.issuer,
        scopes: rbac.config.scopes,
      },
      delegateTokens: readDelegateTokens(secret),
      secretValues: Object.values(secret).filter((v) => v.length > 0),
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
