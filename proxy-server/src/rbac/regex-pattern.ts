import { RE2JS } from 're2js';

/**
 * Go (RE2) regular expressions for `policy.matchMode: regex`, where Argo CD matches with
 * casbin's util.RegexMatch, i.e. Go's `regexp.MatchString(pattern, text)`: unanchored, Perl
 * flags (`.` does not match "\n", `^`/`$` are text anchors unless `(?m)`).
 *
 * re2js is a port of RE2/J, itself a translation of Go's regexp package: the same parser
 * (syntax, errors, the 1000 repeat and nesting limits) and automata that never backtrack,
 * so matching takes time linear in the text, whatever the pattern. SECURITY: the text is the
 * extension name from the request path, chosen by the caller; a backtracking engine would
 * let a pattern with nested quantifiers like `^(a+)+b$` block the event loop for seconds on
 * a 30-character name.
 *
 * Where re2js 2.10 answers otherwise than Go 1.26 (listed with examples in
 * test/unit/rbac/pattern-cases.ts, REGEX_DIFFERENCES):
 * - `\p{C}` also matches unassigned code points (Cn); Go's C is Cc|Cf|Co|Cs.
 * - `\p{...}` names are exact: Go 1.25's loose names (`\p{Letter}`, `\p{greek}`,
 *   `\p{ASCII}`) are refused, so the check they are in denies.
 * - Programs of more than 1,398,101 instructions are refused ("expression too large"), where
 *   Go allows 3,355,443.
 * - Unicode tables are re2js's (Unicode 17), not those of the Go release.
 * Every refusal fails closed: see createMatchFunction.
 */

/** A pattern Go would reject, or that re2js cannot compile. */
export class RegexPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexPatternError';
  }
}

/** A compiled regex; `test` answers like Go's regexp.MatchString (unanchored search). */
export interface RegexPattern {
  test(text: string): boolean;
}

/**
 * Compiles a Go regexp. Throws RegexPatternError when it does not compile.
 * Example: `compileRegexPattern('^team-(a|b)$').test('team-a') === true`.
 */
export function compileRegexPattern(pattern: string): RegexPattern {
  let compiled: RE2JS;
  try {
    // Flags 0: RE2JS.compile then parses with Go's syntax.Perl flags, as regexp.Compile does.
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    // Any failure, syntax or not, refuses the pattern: a throw is a deny for the caller.
    throw new RegexPatternError((error as Error).message);
  }
  // test() is the unanchored search (matcher().find() without capture groups), so it runs
  // on re2js's DFA where it can.
  return { test: (text) => compiled.test(text) };
}
