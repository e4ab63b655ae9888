import { Enforcer as CasbinEnforcer, Model, newEnforcer, newModelFromString } from 'casbin';
import { BUILTIN_POLICY_CSV } from '../../proxy-server/src/rbac/builtin-policy';
import type { Enforcer } from '../../proxy-server/src/rbac/enforcer';
import { createMatchFunction } from '../../proxy-server/src/rbac/match-function';
import { parsePolicyCsv, PolicyRule } from '../../proxy-server/src/rbac/policy-csv';
import type { RbacConfig } from '../../proxy-server/src/rbac/rbac-config';

/** assets/model.conf, the casbin model Argo CD enforces with. */
const ARGOCD_MODEL = `
[request_definition]
r = sub, res, act, obj

[policy_definition]
p = sub, res, act, obj, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && globOrRegexMatch(r.res, p.res) && globOrRegexMatch(r.act, p.act) && globOrRegexMatch(r.obj, p.obj)
`;

const RESOURCE_EXTENSIONS = 'extensions';
const ACTION_INVOKE = 'invoke';

/**
 * A casbin adapter over parsed rules. It appends to the model's rule lists directly, like
 * Argo CD's argocdAdapter: casbin's addPolicy would scan for duplicates on every line.
 */
function createRulesAdapter(rules: PolicyRule[]) {
  const refuse = async (): Promise<void> => {
    throw new Error('the RBAC policy is read-only');
  };
  return {
    async loadPolicy(model: Model): Promise<void> {
      for (const { ptype, values } of rules) {
        model.model.get(ptype)!.get(ptype)!.policy.push(goEffect(ptype, values));
      }
    },
    savePolicy: async (): Promise<boolean> => false,
    addPolicy: refuse,
    removePolicy: refuse,
    removeFilteredPolicy: refuse,
  };
}

/**
 * casbin for Node reads an empty effect as `allow` (it only checks a truthy `p_eft`); Go's
 * casbin, which Argo CD runs, reads anything but `allow`/`deny` as indeterminate. The
 * reference must be Argo CD, so an empty effect is given a value Node's casbin also treats
 * as indeterminate.
 */
function goEffect(ptype: string, values: string[]): string[] {
  if (ptype !== 'p' || values[4] !== '') return values;
  return [...values.slice(0, 4), '(empty)'];
}

/** Parses policy CSV that must be valid (parseRbacConfigMap checked it); throws otherwise. */
function parseValidPolicy(name: string, csv: string): PolicyRule[] {
  const { rules, problems } = parsePolicyCsv(csv);
  if (problems.length > 0) {
    const listed = problems.map(({ line, message }) => `line ${line}: ${message}`).join('; ');
    throw new Error(`${name} is invalid: ${listed}`);
  }
  return rules;
}

/**
 * The reference for proxy-server/src/rbac/enforcer.ts: the same decisions made the way
 * Argo CD makes them, by casbin with Argo CD's model (assets/model.conf), the built-in
 * policy loaded first. Tests compare the indexed enforcer with it; it is far too slow for
 * the request path (a walk over every policy line per decision).
 */
export async function createCasbinEnforcer(config: RbacConfig): Promise<Enforcer> {
  const rules = [
    ...parseValidPolicy('the built-in policy', BUILTIN_POLICY_CSV),
    ...parseValidPolicy('policy.csv', config.policyCsv),
  ];
  const casbin: CasbinEnforcer = await newEnforcer(
    newModelFromString(ARGOCD_MODEL),
    createRulesAdapter(rules),
  );
  await casbin.addFunction('globOrRegexMatch', createMatchFunction(config.matchMode));

  // server/rbacpolicy/rbacpolicy.go EnforceClaims only checks a group that is the first
  // field of some `g` line (built-in ones included). So `p, my-group, ...` alone grants
  // nothing to members of my-group: it needs a `g, my-group, <role>` line too.
  const knownGroups = new Set(
    rules.filter((rule) => rule.ptype === 'g').map((rule) => rule.values[0]),
  );

  /** One casbin Enforce call, as Argo CD makes it: an error counts as a deny. */
  const check = (subject: string, extension: string): boolean => {
    try {
      return casbin.enforceSync(subject, RESOURCE_EXTENSIONS, ACTION_INVOKE, extension);
    } catch {
      return false;
    }
  };

  return {
    canInvoke(who, extension) {
      // SECURITY: each subject is a separate check and any allow wins, so a deny only beats
      // an allow for the same subject (user, a group, the default role), as in Argo CD.
      // util/rbac/rbac.go enforce: the default role first.
      if (config.policyDefault !== '' && check(config.policyDefault, extension)) return true;
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
