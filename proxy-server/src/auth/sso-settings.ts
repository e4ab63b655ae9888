import { X509Certificate } from 'crypto';
import YAML from 'yaml';

/** The path under Argo CD's URL where the bundled Dex is served (common.DexAPIEndpoint). */
export const DEX_API_PATH = '/api/dex';

/** The OAuth2 clients Argo CD registers in Dex (common.ArgoCDClientAppID / ArgoCDCLIClientAppID). */
export const DEX_CLIENT_IDS: readonly string[] = ['argo-cd', 'argo-cd-cli'];

/**
 * How Argo CD replaces the `groups` claim of this issuer's ID tokens with the provider's
 * answer before RBAC sees them (util/oidc/oidc.go SetGroupsClaimFromEndpoint):
 * - `userinfo`: oidc.config `enableUserInfoGroups: true` with a non-empty `userInfoPath`;
 *   every token's groups become the userinfo endpoint's `groups`.
 * - `azure-overage`: oidc.config `azure.enableUserGroupOverageClaim: true` (and no
 *   `userinfo`, which takes precedence); only tokens that carry the groups overage claim
 *   get their groups from Microsoft Graph (util/oidc/oidc_azure.go).
 */
export type GroupsReplacement = 'userinfo' | 'azure-overage';

/** One SSO issuer whose ID tokens are accepted as Argo CD sessions. */
export interface OidcIssuerConfig {
  /** Must equal the tokens' `iss` and the discovery document's `issuer`. Example: `https://cd.example.com/api/dex` */
  issuer: string;
  /**
   * A token with an `aud` claim must name at least one of these (util/oidc Verify).
   * Example: `['argo-cd', 'argo-cd-cli']`
   */
  audiences: string[];
  /**
   * Accept tokens that have no `aud` claim at all (oidc.config
   * `skipAudienceCheckWhenTokenHasNoAudience`). A token that has an `aud` is always checked.
   * Default: false
   */
  skipAudienceCheck: boolean;
  /**
   * Base URL to fetch discovery/JWKS from when it differs from the issuer (Dex behind
   * argocd-dex-server): only its scheme, host and port are used.
   * Example: `http://argocd-dex-server:5556`
   */
  fetchBaseUrl?: string;
  /** PEM CA bundle trusted for the issuer's TLS certificate (oidc.config `rootCA`). */
  rootCA?: string;
  /** argocd-cm `oidc.tls.insecure.skip.verify: "true"`: do not verify the issuer's TLS certificate. Default: false */
  insecureSkipVerify?: boolean;
  /**
   * Whether Argo CD replaces the tokens' `groups` (see {@link GroupsReplacement}); the sidecar
   * then takes the groups from Argo CD itself (auth/effective-groups.ts). Never set for Dex.
   * Default: undefined (the token's own claims are the groups)
   */
  groupsReplacement?: GroupsReplacement;
}

export interface SsoResolveOptions {
  /** Where Dex answers in-cluster; a bare `host:port` gets `http://`. Example: `http://argocd-dex-server:5556` */
  dexServer: string;
  /** argocd-secret values, to resolve `$key` references in oidc.config. Default: none (a reference is a problem) */
  secrets?: Record<string, string>;
}

/**
 * The SSO issuer Argo CD would accept tokens from, with Argo CD's precedence
 * (util/settings IssuerURL, OAuth2AllowedAudiences, SkipAudienceCheckWhenTokenHasNoAudience):
 * - `oidc.config` wins: its `issuer`; audiences are `allowedAudiences` when non-empty, else
 *   `clientID` plus `cliClientID`; `skipAudienceCheckWhenTokenHasNoAudience`; `rootCA`;
 *   `enableUserInfoGroups` with `userInfoPath`, and `azure.enableUserGroupOverageClaim`
 *   (util/settings UserInfoGroupsEnabled, UserInfoPath, AzureUserGroupOverageClaimEnabled).
 * - else `dex.config` with `url`: issuer `<url>/api/dex` (plain concatenation, as Argo CD and
 *   the Dex config it generates both do), audiences `argo-cd` and `argo-cd-cli`, fetched
 *   through `dexServer`.
 * - else no SSO: only local tokens are accepted.
 *
 * Returns every problem found (each starting with the argocd-cm key) instead of throwing.
 * Stricter than Argo CD, which logs and disables SSO: invalid YAML, a missing issuer or
 * client ID, and an unresolvable `$secret` reference are problems.
 */
export function resolveSsoIssuer(
  argocdCm: Record<string, string>,
  options: SsoResolveOptions,
): { issuer?: OidcIssuerConfig; problems: string[] } {
  const oidcConfig = argocdCm['oidc.config'];
  if (oidcConfig !== undefined && oidcConfig.trim() !== '') {
    return resolveOidcConfig(oidcConfig, argocdCm, options);
  }
  const dexConfig = argocdCm['dex.config'];
  if (dexConfig !== undefined && dexConfig.trim() !== '') {
    return resolveDexConfig(dexConfig, argocdCm.url, options);
  }
  return { problems: [] };
}

function resolveOidcConfig(
  raw: string,
  argocdCm: Record<string, string>,
  options: SsoResolveOptions,
): { issuer?: OidcIssuerConfig; problems: string[] } {
  const problems: string[] = [];
  const parsed = parseYamlObject(raw);
  if (typeof parsed === 'string') return { problems: [`oidc.config: ${parsed}`] };

  const read = (field: string): string => {
    const value = parsed[field];
    if (value === undefined || value === null) return '';
    if (typeof value !== 'string') {
      problems.push(`oidc.config: ${field} must be a string`);
      return '';
    }
    return resolveSecretReference(value, `oidc.config: ${field}`, options.secrets, problems);
  };
  const issuer = read('issuer');
  const clientID = read('clientID');
  const cliClientID = read('cliClientID');
  const rootCA = read('rootCA');

  if (issuer === '') problems.push('oidc.config: issuer is required');
  else if (!isHttpUrl(issuer)) problems.push('oidc.config: issuer must be an http(s) URL');

  const allowed = parsed.allowedAudiences;
  let allowedAudiences: string[] = [];
  if (allowed !== undefined && allowed !== null) {
    if (!Array.isArray(allowed) || allowed.some((aud) => typeof aud !== 'string')) {
      problems.push('oidc.config: allowedAudiences must be a list of strings');
    } else {
      allowedAudiences = (allowed as string[]).map((aud, index) =>
        resolveSecretReference(
          aud,
          `oidc.config: allowedAudiences[${index}]`,
          options.secrets,
          problems,
        ),
      );
    }
  }
  // util/settings OAuth2AllowedAudiences: an explicit list replaces the client IDs.
  const audiences = (
    allowedAudiences.length > 0 ? allowedAudiences : [clientID, cliClientID]
  ).filter((aud) => aud !== '');
  if (audiences.length === 0) {
    problems.push(
      'oidc.config: clientID (or allowedAudiences) is required to check token audiences',
    );
  }

  const skip = parsed.skipAudienceCheckWhenTokenHasNoAudience;
  if (skip !== undefined && skip !== null && typeof skip !== 'boolean') {
    problems.push('oidc.config: skipAudienceCheckWhenTokenHasNoAudience must be true or false');
  }
  if (rootCA !== '' && !isPemCertificateBundle(rootCA)) {
    problems.push('oidc.config: rootCA must be PEM-encoded certificates');
  }
  const groupsReplacement = readGroupsReplacement(parsed, read, problems);
  if (problems.length > 0) return { problems };
  return {
    issuer: {
      issuer,
      audiences,
      skipAudienceCheck: skip === true,
      ...(rootCA !== '' ? { rootCA } : {}),
      ...(argocdCm['oidc.tls.insecure.skip.verify'] === 'true' ? { insecureSkipVerify: true } : {}),
      ...(groupsReplacement ? { groupsReplacement } : {}),
    },
    problems,
  };
}

/**
 * util/oidc SetGroupsClaimFromEndpoint's choice: userinfo when `enableUserInfoGroups` is true
 * and `userInfoPath` (a `$secret` reference resolved) is not empty; else the Azure overage
 * when `azure.enableUserGroupOverageClaim` is true; else none.
 *
 * Argo CD also needs a valid `azure.graphApiEndpoint` (util/settings AzureGraphAPIEndpoint:
 * an invalid one logs a warning and turns the overage off); that is not checked here, so the
 * sidecar asks Argo CD in that case too, and Argo CD then answers the token's own groups.
 * A value of the wrong type is a problem: Argo CD would discard the whole oidc.config.
 */
function readGroupsReplacement(
  parsed: Record<string, unknown>,
  read: (field: string) => string,
  problems: string[],
): GroupsReplacement | undefined {
  const readBoolean = (value: unknown, where: string): boolean => {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') {
      problems.push(`oidc.config: ${where} must be true or false`);
      return false;
    }
    return value;
  };
  const userInfoGroups = readBoolean(parsed.enableUserInfoGroups, 'enableUserInfoGroups');
  const userInfoPath = read('userInfoPath');
  let azureOverage = false;
  const azure = parsed.azure;
  if (azure !== undefined && azure !== null) {
    if (typeof azure !== 'object' || Array.isArray(azure)) {
      problems.push('oidc.config: azure must be a YAML mapping');
    } else {
      azureOverage = readBoolean(
        (azure as Record<string, unknown>).enableUserGroupOverageClaim,
        'azure.enableUserGroupOverageClaim',
      );
    }
  }
  if (userInfoGroups && userInfoPath !== '') return 'userinfo';
  if (azureOverage) return 'azure-overage';
  return undefined;
}

function resolveDexConfig(
  raw: string,
  url: string | undefined,
  options: SsoResolveOptions,
): { issuer?: OidcIssuerConfig; problems: string[] } {
  const parsed = parseYamlObject(raw);
  if (typeof parsed === 'string') return { problems: [`dex.config: ${parsed}`] };
  // util/settings IsDexConfigured: an empty dex.config is no SSO at all.
  if (Object.keys(parsed).length === 0) return { problems: [] };
  if (url === undefined || url.trim() === '') {
    return {
      problems: ['url: is required when dex.config is set (the Dex issuer is <url>/api/dex)'],
    };
  }
  if (!isHttpUrl(url)) return { problems: ['url: must be an http(s) URL'] };
  // util/dex DexServerAddressWithProtocol: a bare address means plain HTTP.
  const dexServer = options.dexServer.includes('://')
    ? options.dexServer
    : `http://${options.dexServer}`;
  if (!isHttpUrl(dexServer)) {
    return { problems: ['dex.config: the Dex server address must be an http(s) URL'] };
  }
  return {
    issuer: {
      issuer: `${url}${DEX_API_PATH}`,
      audiences: [...DEX_CLIENT_IDS],
      // util/settings: "Dex will always send JWTs with an audience".
      skipAudienceCheck: false,
      fetchBaseUrl: dexServer,
    },
    problems: [],
  };
}

/** The YAML document as an object, or a problem description. Empty documents are `{}`. */
function parseYamlObject(raw: string): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = YAML.parse(raw);
  } catch {
    return 'invalid YAML';
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return 'must be a YAML mapping';
  return parsed as Record<string, unknown>;
}

/**
 * util/settings ReplaceStringSecret: a value `$key` is argocd-secret's `key`, trimmed. A
 * reference that cannot be resolved is a problem here (Argo CD would use the literal text).
 */
function resolveSecretReference(
  value: string,
  where: string,
  secrets: Record<string, string> | undefined,
  problems: string[],
): string {
  if (!value.startsWith('$')) return value;
  const key = value.slice(1);
  const secret = secrets?.[key];
  if (secret === undefined) {
    problems.push(`${where} refers to ${value}, which is not a key of argocd-secret`);
    return '';
  }
  return secret.trim();
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '';
  } catch {
    return false;
  }
}

function isPemCertificateBundle(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) return false;
  try {
    for (const block of blocks) new X509Certificate(block);
    return true;
  } catch {
    return false;
  }
}
