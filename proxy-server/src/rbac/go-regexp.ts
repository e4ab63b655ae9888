/**
 * Go (RE2) regular expressions for `policy.matchMode: regex`, where Argo CD matches with
 * casbin's util.RegexMatchFunc, i.e. Go's `regexp.MatchString(pattern, text)`: unanchored,
 * Perl flags (`.` does not match "\n", `^`/`$` are text anchors unless `(?m)`).
 *
 * JS RegExp is not RE2, so patterns are parsed here with Go's rules (regexp/syntax parse.go)
 * and re-emitted as an equivalent `u`-mode JS RegExp:
 * - Rejected like Go: lookaround, backreferences, `\Z`, `\C`, unknown escapes, `a**`,
 *   repeat counts over 1000 (also nested), bad ranges, unknown `\p{...}` names.
 * - Translated: `\A`, `\z`, `\Q...\E`, `(?P<name>...)`, `(?flags)`, `(?flags:...)`,
 *   `[[:alpha:]]`, `\pL`, `\p{Greek}`, `\p{^Greek}`; `\s` is ASCII ([\t\n\f\r ]) and `.`
 *   excludes only "\n", as in Go; a `{` that is not a repeat is a literal.
 * - Not translated (throws, so the pattern counts as invalid): `(?i)` that covers only part
 *   of the case-sensitive pattern (Node 20 has no inline flags), a repetition right after a
 *   flag group, negated classes that Go would case-fold under `(?i)`, 4-letter script aliases
 *   and the Go 1.25 loose `\p{}` names (case-insensitive, `\p{letter}`).
 * - Known differences: under `(?i)` JS's `\b` also treats U+017F and U+212A as word
 *   characters; JS uses backtracking where Go is linear-time.
 * SECURITY: the matched text is the extension name from the request path (only
 * [A-Za-z0-9_-], but of any length the HTTP server accepts), so an admin pattern with nested
 * quantifiers like `(a+)+$` could take very long on a crafted name.
 */

import { GoRegexpError } from './go-regexp-classes';
import { MAX_REPEAT, parseGoRegexp, RegexpNode } from './go-regexp-parser';

export { GoRegexpError };

function listChildren(node: RegexpNode): RegexpNode[] {
  if (node.kind === 'atom') return [];
  if (node.kind === 'repeat') return [node.sub];
  return node.kind === 'concat' ? node.items : node.alts;
}

/** Go repeatIsValid: `{n,m}` repeats nested in each other may not multiply past `budget`. */
function isRepeatValid(node: RegexpNode, budget: number): boolean {
  let inner = budget;
  if (node.kind === 'repeat' && node.counted) {
    if (node.max === 0) return true;
    const m = node.max < 0 ? node.min : node.max;
    if (m > budget) return false;
    if (m > 0) inner = Math.floor(budget / m);
  }
  return listChildren(node).every((child) => isRepeatValid(child, inner));
}

/** Go checks each `{n,m}` with n or m >= 2 as it parses it, including what it repeats. */
function checkRepeatSizes(node: RegexpNode): void {
  if (node.kind === 'repeat' && node.counted && (node.min >= 2 || node.max >= 2)) {
    if (!isRepeatValid(node, MAX_REPEAT)) {
      throw new GoRegexpError('invalid repeat count: nested repeats exceed 1000');
    }
  }
  listChildren(node).forEach(checkRepeatSizes);
}

function collectFolds(node: RegexpNode, into: Set<boolean>): void {
  if (node.kind === 'atom' && node.fold !== null) into.add(node.fold);
  listChildren(node).forEach((child) => collectFolds(child, into));
}

function renderNode(node: RegexpNode): string {
  switch (node.kind) {
    case 'atom':
      return node.source;
    case 'concat':
      return node.items.map(renderNode).join('');
    case 'alt':
      return `(?:${node.alts.map(renderNode).join('|')})`;
    case 'repeat': {
      const max = node.max < 0 ? '' : node.max;
      return `(?:${renderNode(node.sub)}){${node.min},${max}}`;
    }
  }
}

/**
 * Compiles a Go regexp to a JS RegExp that answers like Go's regexp.MatchString (unanchored).
 * Throws GoRegexpError when Go would reject the pattern or this port cannot translate it.
 * Example: `compileGoRegexp('^team-(a|b)$').test('team-a') === true`.
 */
export function compileGoRegexp(pattern: string): RegExp {
  const tree = parseGoRegexp(pattern);
  checkRepeatSizes(tree);
  // JS (Node 20) has no inline flags: (?i) must cover every part where case matters.
  const folds = new Set<boolean>();
  collectFolds(tree, folds);
  if (folds.size > 1) throw new GoRegexpError('(?i) on only part of a pattern is not supported');
  try {
    return new RegExp(renderNode(tree), folds.has(true) ? 'iu' : 'u');
  } catch (error) {
    throw new GoRegexpError(`cannot translate: ${(error as Error).message}`);
  }
}
