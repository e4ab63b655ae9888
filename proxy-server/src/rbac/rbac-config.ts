import { isScalar, isSeq, parseDocument } from 'yaml';
import { ParsedPolicy, parsePolicyCsv, PolicyRule } from './policy-csv';

/**
 * How policy resource, action and object patterns match (argocd-rbac-cm `policy.matchMode`).
 * `glob`: gobwas/glob with no separators, so `*` also matches `/`. `regex`: Go regexp,
 * unanchored. Default: `glob`. Example: `regex`.
 */
export type MatchMode = 'glob' | 'regex';

/** The argocd-rbac-cm settings the proxy enforces, validated. */
export interface RbacConfig {
  /**
   * `policy.csv`, then every `policy.<x>.csv` in sorted key order, joined by "\n"
   * (util/rbac/rbac.go PolicyCSV). Default: `''`.
   * Example: `p, role:admin, extensions, invoke, *, allow`.
   */
  policyCsv: string;
  /**
   * The rules of {@link policyCsv}, already parsed (they were parsed to validate them).
   * Optional: without it, createEnforcer parses policyCsv.
   */
  rules?: PolicyRule[];
  /** `policy.default`: a role checked before anything else. Default: `''` (none). Example: `role:readonly`. */
  policyDefault: string;
  /** `policy.matchMode`. Default: `glob`. Example: `regex`. */
  matchMode: MatchMode;
  /**
   * `scopes`: the token claims that carry groups. Default: `['groups']`.
   * Example: `['groups', 'email']`. An empty list means no groups at all.
   */
  scopes: string[];
}

/** argocd-rbac-cm keys (util/rbac/rbac.go constants). */
export const POLICY_CSV_KEY = 'policy.csv';
export const POLICY_DEFAULT_KEY = 'policy.default';
export const MATCH_MODE_KEY = 'policy.matchMode';
export const SCOPES_KEY = 'scopes';

/** util/rbac/rbac.go DefaultScopes. */
export const DEFAULT_SCOPES: readonly string[] = ['groups'];

/** `policy.<x>.csv` overlay keys, sorted like Go's sort.Strings (byte order). */
function listOverlayKeys(data: Record<string, string>): string[] {
  return Object.keys(data)
    .filter((key) => key.startsWith('policy.') && key.endsWith('.csv') && key !== POLICY_CSV_KEY)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Merges the policy keys like util/rbac/rbac.go PolicyCSV: `policy.csv` (if set), then "\n"
 * and each overlay in sorted key order.
 */
export function mergePolicyCsv(data: Record<string, string>): string {
  const overlays = listOverlayKeys(data).map((key) => `\n${data[key]}`);
  return (data[POLICY_CSV_KEY] ?? '') + overlays.join('');
}

/**
 * Reads `scopes` like server/server.go rbacPolicyLoader, which yaml.v2-unmarshals any
 * non-empty value into a []string: `null` gives the default, an empty document (only spaces
 * or comments) an empty list, and each scalar item its source text (`1` -> "1", `~` -> "").
 */
function parseScopes(text: string | undefined): { scopes?: string[]; problem?: string } {
  if (text === undefined || text === '') return { scopes: [...DEFAULT_SCOPES] };
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    // The yaml package appends a source excerpt on further lines; keep the first.
    return {
      problem: `${SCOPES_KEY}: invalid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`,
    };
  }
  const root = doc.contents;
  if (root === null) return { scopes: [] };
  if (isScalar(root) && root.value === null) return { scopes: [...DEFAULT_SCOPES] };
  const problem = `${SCOPES_KEY}: must be a YAML list of strings`;
  if (!isSeq(root)) return { problem };
  const scopes: string[] = [];
  for (const item of root.items) {
    if (!isScalar(item)) return { problem };
    const { value } = item;
    // yaml.v2 puts "" for a null item and the source text for any other scalar (1.0 -> "1.0").
    if (value === null) scopes.push('');
    else if (typeof value === 'string') scopes.push(value);
    else scopes.push(item.source ?? String(value));
  }
  return { scopes };
}

/**
 * Validates the argocd-rbac-cm keys (file name -> content, as mounted). Collects every
 * problem, each starting with its key, and never throws; `config` is set only when there are
 * none. Missing keys take their defaults, so an empty argocd-rbac-cm is valid (it grants
 * only the built-in policy, which has no `extensions` permission). The policy is parsed a
 * slice at a time, yielding to the event loop, so a reload of a large one does not stall
 * requests.
 */
export async function parseRbacConfigMap(data: Record<string, string>): Promise<RbacParseResult> {
  const parsed: Array<[string, ParsedPolicy]> = [];
  for (const key of policyKeysOf(data)) parsed.push([key, await parsePolicyCsv(data[key])]);
  return finishRbacConfigMap(data, parsed);
}

export interface RbacParseResult {
  config?: RbacConfig;
  problems: string[];
}

/** `policy.csv` (if set), then the overlays in sorted key order. */
function policyKeysOf(data: Record<string, string>): string[] {
  return [...(POLICY_CSV_KEY in data ? [POLICY_CSV_KEY] : []), ...listOverlayKeys(data)];
}

function finishRbacConfigMap(
  data: Record<string, string>,
  policies: Array<[string, ParsedPolicy]>,
): RbacParseResult {
  const problems: string[] = [];
  const rules: PolicyRule[] = [];
  for (const [key, parsed] of policies) {
    for (const { line, message } of parsed.problems) {
      problems.push(`${key} line ${line}: ${message}`);
    }
    for (const rule of parsed.rules) rules.push(rule);
  }

  // Argo CD's SetMatchMode silently falls back to glob for any value but "regex"; a typo
  // here is reported instead, so the proxy never runs on a mode the admin did not mean.
  const matchMode = data[MATCH_MODE_KEY] ?? '';
  if (matchMode !== '' && matchMode !== 'glob' && matchMode !== 'regex') {
    problems.push(`${MATCH_MODE_KEY}: must be glob or regex, got ${JSON.stringify(matchMode)}`);
  }

  const scopes = parseScopes(data[SCOPES_KEY]);
  if (scopes.problem !== undefined) problems.push(scopes.problem);

  if (problems.length > 0 || scopes.scopes === undefined) return { problems };
  return {
    config: {
      policyCsv: mergePolicyCsv(data),
      rules,
      // Used as is, like Argo CD: a value with a trailing newline names no real role.
      policyDefault: data[POLICY_DEFAULT_KEY] ?? '',
      matchMode: matchMode === 'regex' ? 'regex' : 'glob',
      scopes: scopes.scopes,
    },
    problems,
  };
}
