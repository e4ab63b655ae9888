import { Enforcer, RbacSubject } from './enforcer';

/** Extension names remembered per caller; names come from request paths, so bound them. */
const MAX_EXTENSIONS_PER_CALLER = 256;

/**
 * Remembers decisions per caller object and extension. The pipeline passes the Identity
 * that the token cache hands out for a token, so a repeat request with the same token is
 * one map lookup instead of a policy walk (which grows with the policy: milliseconds for
 * 10,000 lines).
 *
 * SECURITY: the cache belongs to one enforcer, i.e. one policy generation. A policy reload
 * builds a new enforcer and a new cache, so a revoked permission is never served from
 * here after the reload is applied. Entries die with the caller object (WeakMap), whose
 * lifetime is bounded by the verified-token cache.
 */
export function withDecisionCache(
  enforcer: Enforcer,
  isCacheable: (extension: string) => boolean,
): Enforcer {
  const decisions = new WeakMap<RbacSubject, Map<string, boolean>>();
  return {
    canInvoke(who, extension) {
      // SECURITY: names come from request paths; remembering arbitrary ones per session
      // would let a caller fill memory. Only configured extensions are worth remembering.
      if (!isCacheable(extension)) return enforcer.canInvoke(who, extension);
      let known = decisions.get(who);
      if (!known) {
        known = new Map();
        decisions.set(who, known);
      }
      let allowed = known.get(extension);
      if (allowed === undefined) {
        allowed = enforcer.canInvoke(who, extension);
        if (known.size < MAX_EXTENSIONS_PER_CALLER) known.set(extension, allowed);
      }
      return allowed;
    },
  };
}
