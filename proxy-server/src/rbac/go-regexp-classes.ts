/**
 * Escapes and character classes of Go regexp syntax (regexp/syntax parse.go parseEscape,
 * parseClass, parseUnicodeClass, parseNamedClass, perl_groups.go), rendered as the body of a
 * `u`-mode JS class. Used by go-regexp-parser.ts.
 */

/** The pattern is not valid Go regexp syntax, or uses Go syntax this port does not translate. */
export class GoRegexpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoRegexpError';
  }
}

/** A pattern being parsed: its code points and the read position. */
export interface Cursor {
  chars: string[];
  pos: number;
}

type Ranges = Array<[number, number]>;

const MAX_RUNE = 0x10ffff;

/** Ranges written like a class body: `a-z_` is [a-z] and [_]. */
function parseRangeSpec(spec: string): Ranges {
  const codes = Array.from(spec, (c) => c.codePointAt(0)!);
  const ranges: Ranges = [];
  for (let i = 0; i < codes.length; i += 1) {
    const isRange = codes[i + 1] === 0x2d && i + 2 < codes.length;
    ranges.push([codes[i], isRange ? codes[i + 2] : codes[i]]);
    if (isRange) i += 2;
  }
  return ranges;
}

/** Go's \s is ASCII only: [\t\n\f\r ] (no \v, unlike JS). */
const SPACE_RANGES = parseRangeSpec('\t\n\f\r ');

/** Go perl_groups.go posixGroup. */
const POSIX_CLASSES: Record<string, Ranges> = Object.fromEntries(
  Object.entries({
    alnum: '0-9A-Za-z',
    alpha: 'A-Za-z',
    ascii: '\x00-\x7f',
    blank: '\t ',
    cntrl: '\x00-\x1f\x7f',
    digit: '0-9',
    graph: '!-~',
    lower: 'a-z',
    print: ' -~',
    punct: '!-/:-@[-`{-~',
    space: '\t-\r ',
    upper: 'A-Z',
    word: '0-9A-Za-z_',
    xdigit: '0-9A-Fa-f',
  }).map(([name, spec]) => [name, parseRangeSpec(spec)]),
);

/** Go's unicode.Categories plus the Go 1.25 additions Cn and LC, and their long names. */
const CATEGORIES = new Set(
  (
    'Cc Cf Cn Co Cs L LC Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc ' +
    'Sk Sm So Z Zl Zp Zs Control Format Unassigned Private_Use Surrogate Letter Cased_Letter ' +
    'Lowercase_Letter Modifier_Letter Other_Letter Titlecase_Letter Uppercase_Letter Mark ' +
    'Spacing_Mark Enclosing_Mark Nonspacing_Mark Number Decimal_Number Letter_Number ' +
    'Other_Number Punctuation Connector_Punctuation Dash_Punctuation Close_Punctuation ' +
    'Final_Punctuation Initial_Punctuation Other_Punctuation Open_Punctuation Symbol ' +
    'Currency_Symbol Modifier_Symbol Math_Symbol Other_Symbol Separator Line_Separator ' +
    'Paragraph_Separator Space_Separator'
  ).split(' '),
);

/** Script long names of four letters; other four-letter names are ISO aliases Go rejects. */
const FOUR_LETTER_SCRIPTS = new Set(['Cham', 'Lisu', 'Miao', 'Modi', 'Newa', 'Thai', 'Toto']);

const C_ESCAPES: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };

/** A code point as a JS `u`-mode escape, valid inside and outside classes. */
export function escapeCodePoint(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

function renderRanges(ranges: Ranges): string {
  return ranges
    .map(([lo, hi]) => escapeCodePoint(lo) + (lo === hi ? '' : `-${escapeCodePoint(hi)}`))
    .join('');
}

function complementRanges(ranges: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

/** Whether (?i) can change what the ranges match (any ASCII letter, or beyond ASCII). */
function isFoldable(ranges: Ranges): boolean {
  return ranges.some(([lo, hi]) => hi > 0x7f || (lo <= 0x7a && hi >= 0x41));
}

/** The text from `from` to the cursor, quoted for an error message. */
export function quoteSpan(cursor: Cursor, from: number, to = cursor.pos): string {
  return `\`${cursor.chars.slice(from, to).join('')}\``;
}

function fail(message: string): never {
  throw new GoRegexpError(message);
}

/** Go parseEscape: the code point of `\x` at the cursor (octal, hex, C escape, punctuation). */
export function parseEscape(cursor: Cursor): number {
  const { chars } = cursor;
  const start = cursor.pos;
  const c = chars[start + 1];
  if (c === undefined) fail('trailing backslash at end of expression');
  cursor.pos += 2;
  const next = () => chars[cursor.pos] ?? '';
  const code = c.codePointAt(0)!;
  if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return code;
  // One digit 1-7 alone would be a backreference, which Go does not support.
  if (c === '0' || (/[1-7]/.test(c) && /[0-7]/.test(next()))) {
    let value = code - 0x30;
    for (let i = 1; i < 3 && /[0-7]/.test(next()); i += 1, cursor.pos += 1) {
      value = value * 8 + next().charCodeAt(0) - 0x30;
    }
    return value;
  }
  if (c === 'x') {
    const braced = next() === '{' ? chars.indexOf('}', cursor.pos) : -1;
    const digits =
      braced >= 0
        ? chars.slice(cursor.pos + 1, braced).join('')
        : chars.slice(cursor.pos, cursor.pos + 2).join('');
    const valid = braced >= 0 ? /^[0-9A-Fa-f]+$/.test(digits) : /^[0-9A-Fa-f]{2}$/.test(digits);
    if (valid && Number.parseInt(digits, 16) <= MAX_RUNE) {
      cursor.pos = braced >= 0 ? braced + 1 : cursor.pos + 2;
      return Number.parseInt(digits, 16);
    }
  }
  if (c in C_ESCAPES) return C_ESCAPES[c];
  return fail(`invalid escape sequence: ${quoteSpan(cursor, start)}`);
}

/** `\d`, `\s`, `\w` and negations, ASCII-only as in Go (JS's \d, \D, \w, \W agree). */
export function renderPerlClass(letter: string, inClass: boolean): string {
  if (letter !== 's' && letter !== 'S') return `\\${letter}`;
  const body = renderRanges(letter === 's' ? SPACE_RANGES : complementRanges(SPACE_RANGES));
  return inClass ? body : `[${body}]`;
}

/** A `\p{name}` class body, or undefined when Go does not know the name. */
function renderUnicodeName(name: string, negated: boolean): string | undefined {
  const p = negated ? 'P' : 'p';
  if (name === 'Any') return negated ? '' : renderRanges([[0, MAX_RUNE]]);
  if (name === 'ASCII') return renderRanges(negated ? complementRanges([[0, 0x7f]]) : [[0, 0x7f]]);
  if (name === 'Assigned') return `\\${negated ? 'p' : 'P'}{gc=Cn}`;
  // Go's C (Other) is Cc|Cf|Co|Cs; JS's \p{C} also has the unassigned Cn.
  if (name === 'C' || name === 'Other') {
    return negated ? '\\P{gc=C}\\p{gc=Cn}' : '\\p{gc=Cc}\\p{gc=Cf}\\p{gc=Co}\\p{gc=Cs}';
  }
  if (CATEGORIES.has(name)) return `\\${p}{gc=${name}}`;
  if (!/^[A-Z][A-Za-z_]*$/.test(name)) return undefined;
  if (name.length === 4 && !FOUR_LETTER_SCRIPTS.has(name)) return undefined;
  try {
    new RegExp(`\\p{Script=${name}}`, 'u');
  } catch {
    return undefined;
  }
  return `\\${p}{Script=${name}}`;
}

/** Go parseUnicodeClass: `\pL`, `\p{Name}`, `\p{^Name}` at the cursor, as a class body. */
export function parseUnicodeClass(cursor: Cursor, fold: boolean): string {
  const { chars } = cursor;
  const start = cursor.pos;
  let negated = chars[start + 1] === 'P';
  cursor.pos += 2;
  let name = chars[cursor.pos] ?? '';
  if (name === '{') {
    const close = chars.indexOf('}', cursor.pos);
    if (close < 0) fail(`invalid character class range: ${quoteSpan(cursor, start, chars.length)}`);
    name = chars.slice(cursor.pos + 1, close).join('');
    cursor.pos = close;
  }
  cursor.pos += 1;
  if (name.startsWith('^')) {
    negated = !negated;
    name = name.slice(1);
  }
  // Go folds the class before negating it; a JS class cannot say that.
  if (negated && fold) fail('a negated \\p{} under (?i) is not supported');
  const body = renderUnicodeName(name, negated);
  return body ?? fail(`invalid character class range: ${quoteSpan(cursor, start)}`);
}

/** Go parseNamedClass: `[:alpha:]` or `[:^alpha:]` at the cursor, or undefined if none. */
function parseNamedClass(
  cursor: Cursor,
  fold: boolean,
): { body: string; folds: boolean } | undefined {
  const { chars } = cursor;
  let end = cursor.pos + 2;
  while (end < chars.length && !(chars[end] === ':' && chars[end + 1] === ']')) end += 1;
  if (end >= chars.length) return undefined;
  const name = chars.slice(cursor.pos + 2, end).join('');
  const ranges = POSIX_CLASSES[name.replace(/^\^/, '')];
  if (ranges === undefined) fail(`invalid character class range: \`[:${name}:]\``);
  const negated = name.startsWith('^');
  if (negated && fold && isFoldable(ranges))
    fail('a negated [:class:] under (?i) is not supported');
  cursor.pos = end + 2;
  return {
    body: renderRanges(negated ? complementRanges(ranges) : ranges),
    folds: isFoldable(ranges),
  };
}

/**
 * Go parseClass: `[...]` or `[^...]` at the cursor. A `]` right after `[` or `[^` is literal,
 * `-` is literal where it cannot form a range. `folds`: whether (?i) can change the class.
 */
export function parseClass(cursor: Cursor, fold: boolean): { source: string; folds: boolean } {
  const { chars } = cursor;
  const start = cursor.pos;
  cursor.pos += 1;
  const negated = chars[cursor.pos] === '^';
  if (negated) cursor.pos += 1;
  let body = '';
  let folds = false;
  const classChar = (): number => {
    const c = chars[cursor.pos];
    if (c === undefined) fail(`missing closing ]: ${quoteSpan(cursor, start)}`);
    if (c === '\\') return parseEscape(cursor);
    cursor.pos += 1;
    return c.codePointAt(0)!;
  };
  for (let first = true; chars[cursor.pos] !== ']' || first; first = false) {
    const [c, next] = [chars[cursor.pos], chars[cursor.pos + 1]];
    const named = c === '[' && next === ':' ? parseNamedClass(cursor, fold) : undefined;
    if (named !== undefined) {
      body += named.body;
      folds ||= named.folds;
    } else if (c === '\\' && (next === 'p' || next === 'P')) {
      body += parseUnicodeClass(cursor, fold);
      folds = true;
    } else if (c === '\\' && /^[dDsSwW]$/.test(next ?? '')) {
      body += renderPerlClass(next, true);
      folds ||= next === 'w' || next === 'W';
      cursor.pos += 2;
    } else {
      const rangeStart = cursor.pos;
      const lo = classChar();
      let hi = lo;
      if (
        chars[cursor.pos] === '-' &&
        chars[cursor.pos + 1] !== undefined &&
        chars[cursor.pos + 1] !== ']'
      ) {
        cursor.pos += 1;
        hi = classChar();
        if (hi < lo) fail(`invalid character class range: ${quoteSpan(cursor, rangeStart)}`);
      }
      body += renderRanges([[lo, hi]]);
      folds ||= isFoldable([[lo, hi]]);
    }
    if (chars[cursor.pos] === undefined) fail(`missing closing ]: ${quoteSpan(cursor, start)}`);
  }
  cursor.pos += 1;
  return { source: `[${negated ? '^' : ''}${body}]`, folds };
}
