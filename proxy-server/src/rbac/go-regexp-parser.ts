/**
 * Parses Go regexp syntax with Go's rules (regexp/syntax parse.go, Perl flags) into a small
 * tree of JS RegExp fragments. go-regexp.ts checks and compiles the tree.
 */
import {
  Cursor,
  escapeCodePoint,
  GoRegexpError,
  parseClass,
  parseEscape,
  parseUnicodeClass,
  quoteSpan,
  renderPerlClass,
} from './go-regexp-classes';

/**
 * A parsed pattern. `atom.fold` is the (?i) state where it can change what the atom
 * matches, null where it cannot. `counted`: a `{n,m}` repeat (the only kind Go size-checks).
 */
export type RegexpNode =
  | { kind: 'atom'; source: string; fold: boolean | null }
  | { kind: 'concat'; items: RegexpNode[] }
  | { kind: 'alt'; alts: RegexpNode[] }
  | { kind: 'repeat'; sub: RegexpNode; min: number; max: number; counted: boolean };

interface Flags {
  fold: boolean;
  multiLine: boolean;
  dotNL: boolean;
}

/** Go's maxHeight and the largest repeat count. */
const MAX_DEPTH = 1000;
export const MAX_REPEAT = 1000;

const CASE_RELEVANT = /[\p{Cased}\p{Changes_When_Casefolded}\p{Changes_When_Casemapped}]/u;
const ANCHOR_ESCAPES: Record<string, string> = { A: '^', z: '$', b: '\\b', B: '\\B' };

function fail(message: string): never {
  throw new GoRegexpError(message);
}

/** Go parseInt: digits without a leading zero; more than 8 digits is "too big" (-1). */
function parseCount(cursor: Cursor): number | undefined {
  const start = cursor.pos;
  while (/[0-9]/.test(cursor.chars[cursor.pos] ?? '')) cursor.pos += 1;
  const digits = cursor.chars.slice(start, cursor.pos).join('');
  if (digits === '' || (digits.length > 1 && digits.startsWith('0'))) return undefined;
  return digits.length > 8 ? -1 : Number(digits);
}

/** Go parseRepeat: `{n}`, `{n,}`, `{n,m}` at the cursor; undefined (cursor kept) if none. */
function parseBraces(cursor: Cursor): { min: number; max: number } | undefined {
  const start = cursor.pos;
  cursor.pos += 1;
  let min = parseCount(cursor);
  let max = min;
  if (min !== undefined && cursor.chars[cursor.pos] === ',') {
    cursor.pos += 1;
    max = cursor.chars[cursor.pos] === '}' ? -1 : parseCount(cursor);
    // Go: a max too big to parse makes the whole repeat invalid.
    if (max !== undefined && max < 0 && cursor.chars[cursor.pos - 1] !== ',') min = -1;
  }
  if (min === undefined || max === undefined || cursor.chars[cursor.pos] !== '}') {
    cursor.pos = start;
    return undefined;
  }
  cursor.pos += 1;
  if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
    fail(`invalid repeat count: ${quoteSpan(cursor, start)}`);
  }
  return { min, max };
}

/** Go parsePerlFlags: `(?flags)` or `(?flags:` at the cursor. */
function parseFlags(cursor: Cursor, flags: Flags): { flags: Flags; opensGroup: boolean } {
  const start = cursor.pos;
  cursor.pos += 2;
  const next = { ...flags };
  let sign = 1;
  let sawFlag = false;
  for (let c = cursor.chars[cursor.pos]; c !== undefined; c = cursor.chars[cursor.pos]) {
    cursor.pos += 1;
    if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
      // U (ungreedy) cannot change whether a pattern matches, so it is only accepted.
      if (c === 'i') next.fold = sign > 0;
      if (c === 'm') next.multiLine = sign > 0;
      if (c === 's') next.dotNL = sign > 0;
      sawFlag = true;
    } else if (c === '-' && sign > 0) {
      sign = -1;
      sawFlag = false;
    } else if ((c === ':' || c === ')') && (sign > 0 || sawFlag)) {
      return { flags: next, opensGroup: c === ':' };
    } else {
      break;
    }
  }
  return fail(`invalid or unsupported Perl syntax: ${quoteSpan(cursor, start)}`);
}

/** Skips `(`, `(?:`, `(?P<name>` or `(?<name>`; applies a flag group. Returns the group's flags or null. */
function openGroup(cursor: Cursor, flags: Flags): Flags | null {
  const { chars, pos } = cursor;
  if (chars[pos + 1] !== '?') {
    cursor.pos += 1;
    return flags;
  }
  const named = chars[pos + 2] === '<' || (chars[pos + 2] === 'P' && chars[pos + 3] === '<');
  if (!named) {
    const parsed = parseFlags(cursor, flags);
    if (parsed.opensGroup) return parsed.flags;
    // `(?i)` lasts until the end of the enclosing group, across `|`.
    Object.assign(flags, parsed.flags);
    return null;
  }
  // Names only matter for captures; the group is emitted as a plain one.
  const close = chars.indexOf('>', pos);
  const name = chars.slice(pos + (chars[pos + 2] === 'P' ? 4 : 3), close).join('');
  if (close < 0 || !/^[A-Za-z0-9_]+$/.test(name)) {
    fail(`invalid named capture: ${quoteSpan(cursor, pos, close < 0 ? chars.length : close + 1)}`);
  }
  cursor.pos = close + 1;
  return flags;
}

/** One atom outside a group: literal, `.`, `^`, `$`, class, or escape (`\Q..\E` gives several). */
function parseAtoms(cursor: Cursor, flags: Flags): RegexpNode[] {
  const { chars } = cursor;
  const c = chars[cursor.pos];
  const atom = (source: string, fold: boolean | null): RegexpNode => ({
    kind: 'atom',
    source,
    fold,
  });
  const literal = (code: number): RegexpNode =>
    atom(escapeCodePoint(code), CASE_RELEVANT.test(String.fromCodePoint(code)) ? flags.fold : null);
  if (c === '[') {
    const { source, folds } = parseClass(cursor, flags.fold);
    return [atom(source, folds ? flags.fold : null)];
  }
  if (c !== '\\') {
    cursor.pos += 1;
    if (c === '.') return [atom(flags.dotNL ? '[^]' : '[^\\n]', null)];
    if (c === '^') return [atom(flags.multiLine ? '(?<![^\\n])' : '^', null)];
    if (c === '$') return [atom(flags.multiLine ? '(?![^\\n])' : '$', null)];
    return [literal(c.codePointAt(0)!)];
  }
  const next = chars[cursor.pos + 1] ?? '';
  if (next in ANCHOR_ESCAPES) {
    cursor.pos += 2;
    return [atom(ANCHOR_ESCAPES[next], null)];
  }
  if (next === 'C') fail('invalid escape sequence: `\\C`');
  if (next === 'Q') {
    let end = cursor.pos + 2;
    while (end < chars.length && !(chars[end] === '\\' && chars[end + 1] === 'E')) end += 1;
    const text = chars.slice(cursor.pos + 2, end);
    cursor.pos = Math.min(end + 2, chars.length);
    return text.map((ch) => literal(ch.codePointAt(0)!));
  }
  if (next === 'p' || next === 'P')
    return [atom(`[${parseUnicodeClass(cursor, flags.fold)}]`, flags.fold)];
  if (/^[dDsSwW]$/.test(next)) {
    cursor.pos += 2;
    return [atom(renderPerlClass(next, false), next === 'w' || next === 'W' ? flags.fold : null)];
  }
  return [literal(parseEscape(cursor))];
}

/** A repetition operator at the cursor (`*`, `+`, `?`, `{n,m}`, each with an optional `?`). */
function parseQuantifier(
  cursor: Cursor,
): { min: number; max: number; counted: boolean } | undefined {
  const c = cursor.chars[cursor.pos];
  let quantifier: { min: number; max: number; counted: boolean } | undefined;
  if (c === '*' || c === '+' || c === '?') {
    cursor.pos += 1;
    quantifier = { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : -1, counted: false };
  } else if (c === '{') {
    const braces = parseBraces(cursor);
    if (braces !== undefined) quantifier = { ...braces, counted: true };
  }
  // A lazy `?` cannot change whether the pattern matches: accepted and dropped.
  if (quantifier !== undefined && cursor.chars[cursor.pos] === '?') cursor.pos += 1;
  return quantifier;
}

/** Alternatives up to a `)` or the end, with the flags of the enclosing group. */
function parseAlternation(cursor: Cursor, outer: Flags, depth: number): RegexpNode {
  if (depth > MAX_DEPTH) fail('expression nests too deeply');
  const flags = { ...outer };
  const alts: RegexpNode[] = [];
  let items: RegexpNode[] = [];
  let previous: 'repeat' | 'flags' | 'other' = 'other';
  for (;;) {
    const c = cursor.chars[cursor.pos];
    if (c === undefined || c === ')' || c === '|') {
      alts.push({ kind: 'concat', items });
      if (c !== '|') return alts.length === 1 ? alts[0] : { kind: 'alt', alts };
      cursor.pos += 1;
      items = [];
      previous = 'other';
      continue;
    }
    const start = cursor.pos;
    const quantifier = parseQuantifier(cursor);
    if (quantifier !== undefined) {
      if (previous === 'repeat')
        fail(`invalid nested repetition operator: ${quoteSpan(cursor, start)}`);
      // Go repeats the atom before the flag group here; too obscure to translate.
      if (previous === 'flags') fail('a repetition right after a flag group is not supported');
      const sub =
        items.pop() ?? fail(`missing argument to repetition operator: ${quoteSpan(cursor, start)}`);
      items.push({ kind: 'repeat', sub, ...quantifier });
      previous = 'repeat';
    } else if (c === '(') {
      const groupFlags = openGroup(cursor, flags);
      previous = groupFlags === null ? 'flags' : 'other';
      if (groupFlags === null) continue;
      const sub = parseAlternation(cursor, groupFlags, depth + 1);
      if (cursor.chars[cursor.pos] !== ')')
        fail(`missing closing ): ${quoteSpan(cursor, start, cursor.chars.length)}`);
      cursor.pos += 1;
      items.push(sub);
    } else {
      items.push(...parseAtoms(cursor, flags));
      previous = 'other';
    }
  }
}

/** Parses a Go regexp (Perl flags, as regexp.MatchString uses); throws GoRegexpError. */
export function parseGoRegexp(pattern: string): RegexpNode {
  const cursor: Cursor = { chars: Array.from(pattern), pos: 0 };
  const root = parseAlternation(cursor, { fold: false, multiLine: false, dotNL: false }, 0);
  if (cursor.pos < cursor.chars.length)
    fail(`unexpected ): ${quoteSpan(cursor, 0, cursor.pos + 1)}`);
  return root;
}
