import { setImmediate as nextTurn } from 'timers/promises';
import { BUILTIN_POLICY_CSV } from './builtin-policy';
import { ACTION_INVOKE, RESOURCE_EXTENSIONS } from './invoke-permission';
import { createMatchFunction, MatchFunction } from './match-function';
import { parsePolicyCsv, PolicyRule } from './policy-csv';
import type { RbacConfig } from './rbac-config';

/** Who asks: the RBAC subject and the groups read from the token's `scopes` claims. */
export interface RbacSubject {
  /**
   * The Argo CD RBAC subject: a local user name (`alice`, the part of `sub` before `:`),
   * an SSO user id (`federated_claims.user_id`, else `sub`), or `proj:<project>:<role>`.
   * Example: `alice`.
   */
  subject: string;
  /** Groups from the token, in claim order. Default: `[]`. Example: `['my-org:ops']`. */
  groups: string[];
}

/** Decides argocd-rbac-cm permissions. */
export interface Enforcer {
  /** Argo CD's decision for (subject, 'extensions', 'invoke', extensionName). Synchronous. */
  canInvoke(who: RbacSubject, extension: string): boolean;
  /** True for {@link DENY_EVERY_INVOKE}: no policy could be loaded. */
  readonly unavailable?: boolean;
}

/**
 * The enforcer while argocd-rbac-cm cannot be loaded: Argo CD denies every request with a
 * policy it cannot load, and so does the sidecar.
 */
export const DENY_EVERY_INVOKE: Enforcer = { canInvoke: () => false, unavailable: true };

/**
 * The resource and action an enforcer decides: `extensions, invoke` on the request path;
 * `doctor` also asks about the extension proxy's own account (`projects, get`,
 * `clusters, get`), and then `canInvoke` decides that permission for its object.
 */
export interface Permission {
  resource: string;
  action: string;
}

const INVOKE: Permission = { resource: RESOURCE_EXTENSIONS, action: ACTION_INVOKE };

/**
 * casbin's default role manager follows `g` links this many levels deep (Argo CD keeps the
 * default): a role reached through more links than this is not inherited.
 */
const MAX_HIERARCHY_LEVEL = 10;

/**
 * Rules are indexed in slices of this many, yielding to the event loop in between (small
 * for the same reason as policy-csv.ts' LINES_PER_SLICE).
 */
const RULES_PER_SLICE = 250;

/** A `p` line that can apply to `extensions, invoke`, kept for its subject. */
interface InvokeRule {
  /** The object pattern (the extension name, or a glob/regex over names). */
  object: string;
  effect: 'allow' | 'deny' | 'other';
  /**
   * Matching its resource or action pattern threw (an invalid regex in regex mode): casbin
   * would fail the whole check for a subject this line applies to, and Argo CD deny.
   */
  failed: boolean;
}

/**
 * Builds the enforcer for one validated argocd-rbac-cm: Argo CD's decisions (casbin with
 * assets/model.conf, the built-in policy loaded first, as util/rbac/rbac.go does), computed
 * from an index instead of casbin's walk over every policy line.
 *
 * Argo CD's matcher is
 *   g(r.sub, p.sub) && globOrRegexMatch(r.res, p.res) && globOrRegexMatch(r.act, p.act)
 *     && globOrRegexMatch(r.obj, p.obj)
 * with the effect `some(allow) && !some(deny)`. Resource and action are always
 * `extensions` and `invoke` here, so each `p` line's first two patterns are matched once,
 * at load; the lines that remain are indexed by subject. A decision then looks only at the
 * lines of the subject and of the roles it inherits (its `g` links, at most 10 deep), so
 * it costs the same with 10 or 100,000 lines. The answer equals casbin's:
 * - allowed iff some applicable line allows, none denies, and matching none of them threw
 *   (casbin stops at a deny, and an error anywhere else makes Argo CD deny: the same result);
 * - an effect other than `allow`/`deny` counts for nothing (casbin: indeterminate).
 * test/unit/rbac compares every decision with casbin itself on a table checked against
 * Argo CD and on generated policies.
 *
 * Loading yields to the event loop between slices of rules, so a reload of a large policy
 * does not hold up requests (they keep using the previous enforcer until this one is ready).
 */
export async function createEnforcer(
  config: RbacConfig,
  permission: Permission = INVOKE,
): Promise<Enforcer> {
  const rules = await loadPolicyRules(config);
  const match = createMatchFunction(config.matchMode);
  const bySubject = new Map<string, InvokeRule[]>();
  const links = new Map<string, string[]>();

  for (let start = 0; start < rules.length; start += RULES_PER_SLICE) {
    // Before the first slice too: the parse that came before did not end with a turn.
    await nextTurn();
    const end = Math.min(rules.length, start + RULES_PER_SLICE);
    for (let i = start; i < end; i++) indexRule(rules[i], match, bySubject, links, permission);
  }

  /** One casbin Enforce call, as Argo CD makes it: an error counts as a deny. */
  const check: SubjectCheck = (subject, extension) => {
    let allowed = false;
    for (const role of inheritedRoles(subject, links)) {
      const applicable = bySubject.get(role);
      if (!applicable) continue;
      for (const rule of applicable) {
        if (rule.failed) return false;
        let matches: boolean;
        try {
          matches = match(extension, rule.object, rule.effect === 'deny' ? 'deny' : 'grant');
        } catch {
          return false;
        }
        if (!matches) continue;
        if (rule.effect === 'deny') return false;
        if (rule.effect === 'allow') allowed = true;
      }
    }
    return allowed;
  };

  return enforceLikeArgoCD(check, rules, config.policyDefault);
}

/**
 * The built-in policy, then the user's (util/rbac/rbac.go argocdAdapter.LoadPolicy order):
 * the rules parseRbacConfigMap kept, or policyCsv parsed (it must be valid).
 */
export async function loadPolicyRules(config: RbacConfig): Promise<PolicyRule[]> {
  return [
    ...(await parseValidPolicy('the built-in policy', BUILTIN_POLICY_CSV)),
    ...(config.rules ?? (await parseValidPolicy('policy.csv', config.policyCsv))),
  ];
}

/** One casbin Enforce call for (subject, extensions, invoke, extension); an error is false. */
export type SubjectCheck = (subject: string, extension: string) => boolean;

/**
 * Argo CD's decision built from single-subject checks: the default role, the subject, each
 * known group, then the empty subject. Shared by the indexed enforcer and the casbin
 * reference in the tests, so both differ only in how one subject is checked.
 */
export function enforceLikeArgoCD(
  check: SubjectCheck,
  rules: readonly PolicyRule[],
  policyDefault: string,
): Enforcer {
  // server/rbacpolicy/rbacpolicy.go EnforceClaims only checks a group that is the first
  // field of some `g` line (built-in ones included). So `p, my-group, ...` alone grants
  // nothing to members of my-group: it needs a `g, my-group, <role>` line too.
  const knownGroups = new Set(
    rules.filter((rule) => rule.ptype === 'g').map((rule) => rule.values[0]),
  );
  return {
    canInvoke(who, extension) {
      // SECURITY: each subject is a separate check and any allow wins, so a deny only beats
      // an allow for the same subject (user, a group, the default role), as in Argo CD.
      // util/rbac/rbac.go enforce: the default role first.
      if (policyDefault !== '' && check(policyDefault, extension)) return true;
      // rbacpolicy.go EnforceClaims: the subject, then each known group. For `extensions`
      // getProjectFromRequest finds no project, so project tokens (`proj:<p>:<role>`) take
      // this same path: only argocd-rbac-cm applies, never the AppProject's role policies.
      if (check(who.subject, extension)) return true;
      for (const group of who.groups) {
        if (knownGroups.has(group) && check(group, extension)) return true;
      }
      // rbac.go enforce: when the claims check fails it enforces once more with the subject
      // "" (so a rule for the empty subject applies to every caller).
      return check('', extension);
    },
  };
}

/** Adds one policy line to the index: `g` lines to the role graph, `p` lines by subject. */
function indexRule(
  rule: PolicyRule,
  match: MatchFunction,
  bySubject: Map<string, InvokeRule[]>,
  links: Map<string, string[]>,
  permission: Permission,
): void {
  const { values } = rule;
  if (rule.ptype === 'g') {
    const [member, role] = values;
    const roles = links.get(member);
    if (roles) roles.push(role);
    else links.set(member, [role]);
    return;
  }
  const [subject, resource, action, object, effect] = values;
  // A deny line applies wherever Argo CD may apply it; an allow line only where it surely does.
  const use = effect === 'deny' ? 'deny' : 'grant';
  let failed = false;
  try {
    if (!match(permission.resource, resource, use) || !match(permission.action, action, use)) {
      return;
    }
  } catch {
    failed = true;
  }
  const entry: InvokeRule = {
    object,
    effect: effect === 'allow' ? 'allow' : effect === 'deny' ? 'deny' : 'other',
    failed,
  };
  const list = bySubject.get(subject);
  if (list) list.push(entry);
  else bySubject.set(subject, [entry]);
}

/**
 * The subject and every role it inherits through `g` links, at most MAX_HIERARCHY_LEVEL
 * links away (casbin's DefaultRoleManager hasLink: a breadth-first walk finds each role at
 * its shortest distance, which is what the depth limit is measured on).
 */
function inheritedRoles(subject: string, links: Map<string, string[]>): string[] {
  const found = [subject];
  const seen = new Set(found);
  let frontier = [subject];
  for (let level = 0; level < MAX_HIERARCHY_LEVEL && frontier.length > 0; level++) {
    const next: string[] = [];
    for (const name of frontier) {
      for (const role of links.get(name) ?? []) {
        if (seen.has(role)) continue;
        seen.add(role);
        next.push(role);
        found.push(role);
      }
    }
    frontier = next;
  }
  return found;
}

/** Parses policy CSV that must be valid (parseRbacConfigMap checked it); throws otherwise. */
async function parseValidPolicy(name: string, csv: string): Promise<PolicyRule[]> {
  const { rules, problems } = await parsePolicyCsv(csv);
  if (problems.length > 0) {
    const listed = problems.map(({ line, message }) => `line ${line}: ${message}`).join('; ');
    throw new Error(`${name} is invalid: ${listed}`);
  }
  return rules;
}
