import { Enforcer as CasbinEnforcer, Model, newEnforcer, newModelFromString } from 'casbin';
import {
  Enforcer,
  enforceLikeArgoCD,
  loadPolicyRules,
  SubjectCheck,
} from '../../proxy-server/src/rbac/enforcer';
import { ACTION_INVOKE, RESOURCE_EXTENSIONS } from '../../proxy-server/src/rbac/invoke-permission';
import { createMatchFunction } from '../../proxy-server/src/rbac/match-function';
import type { PolicyRule } from '../../proxy-server/src/rbac/policy-csv';
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

/**
 * The reference for proxy-server/src/rbac/enforcer.ts: the same decisions made the way
 * Argo CD makes them, by casbin with Argo CD's model (assets/model.conf), the built-in
 * policy loaded first. Tests compare the indexed enforcer with it; it is far too slow for
 * the request path (a walk over every policy line per decision).
 */
export async function createCasbinEnforcer(config: RbacConfig): Promise<Enforcer> {
  const rules = await loadPolicyRules(config);
  const casbin: CasbinEnforcer = await newEnforcer(
    newModelFromString(ARGOCD_MODEL),
    createRulesAdapter(rules),
  );
  await casbin.addFunction('globOrRegexMatch', createMatchFunction(config.matchMode));

  /** One casbin Enforce call, as Argo CD makes it: an error counts as a deny. */
  const check: SubjectCheck = (subject, extension) => {
    try {
      return casbin.enforceSync(subject, RESOURCE_EXTENSIONS, ACTION_INVOKE, extension);
    } catch {
      return false;
    }
  };

  return enforceLikeArgoCD(check, rules, config.policyDefault);
}
