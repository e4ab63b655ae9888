import { compileGlobPattern, GlobMatcher } from './glob-pattern';
import type { MatchMode } from './rbac-config';
import { compileRegexPattern, RegexPattern, RegexPatternError } from './regex-pattern';

/**
 * What a match decides: `grant` for an allow line, `deny` for a deny line. In glob mode a
 * pattern of a shape where Argo CD's gobwas/glob answers differently from the pattern's
 * meaning then matches on the stricter side (glob-pattern.ts GlobMatcher); undefined gives
 * the meaning.
 */
export type MatchUse = 'grant' | 'deny';

/** casbin's `globOrRegexMatch(text, pattern)` (assets/model.conf) for one match mode. */
export type MatchFunction = (text: string, pattern: string, use?: MatchUse) => boolean;

/**
 * Creates the `globOrRegexMatch` function Argo CD registers with casbin (util/rbac/rbac.go
 * tryGetCasbinEnforcer). Compiled patterns are cached per function, so per enforcer: the
 * policy is the only source of patterns, which bounds the cache.
 *
 * - glob: a pattern that fails to compile matches nothing (util/glob/glob.go Match).
 * - regex: Go's regexp.MatchString through re2js (regex-pattern.ts), linear in the text.
 *   An invalid pattern throws. Argo CD uses casbin's util.RegexMatch, which panics;
 *   casbin's enforce() recovers and returns an error, and Argo CD's enforce() treats an error
 *   as a deny. So it fails the whole check (one subject), not only its own policy line.
 *   A pattern Go accepts but re2js refuses (regex-pattern.ts lists them) throws too.
 *   SECURITY: callers must treat a throw as a deny; matching nothing instead could skip a
 *   `deny` line that Argo CD applies.
 */
export function createMatchFunction(mode: MatchMode): MatchFunction {
  const cache = new Map<string, GlobMatcher | RegexPattern | RegexPatternError | undefined>();
  const compile = (pattern: string): GlobMatcher | RegexPattern | RegexPatternError | undefined => {
    if (mode === 'glob') return compileGlobPattern(pattern);
    try {
      return compileRegexPattern(pattern);
    } catch (error) {
      if (error instanceof RegexPatternError) return error;
      throw error;
    }
  };
  return (text, pattern, use) => {
    if (!cache.has(pattern)) cache.set(pattern, compile(pattern));
    const compiled = cache.get(pattern);
    if (compiled instanceof RegexPatternError) throw compiled;
    if (compiled === undefined) return false;
    if (use === undefined || !('strict' in compiled)) return compiled.test(text);
    return use === 'grant' ? compiled.strict(text) : compiled.lenient(text);
  };
}
