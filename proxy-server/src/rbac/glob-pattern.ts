/**
 * Glob patterns as Argo CD matches them in `policy.matchMode: glob` (util/rbac/rbac.go
 * globMatchFunc -> util/glob/glob.go Match -> github.com/gobwas/glob v0.2.3 `Compile(pattern)`
 * with no separators). A pattern that fails to compile matches nothing.
 *
 * Syntax (gobwas/glob syntax/lexer and syntax/ast, reproduced including its edge cases):
 * - `*` and `**`: any run of characters; with no separators `*` also crosses `/`.
 * - `?`: exactly one character (code point).
 * - `[abc]`, `[!abc]`: one of / none of the listed characters; `[a-z]`, `[!a-z]`: one range.
 *   A class holds either a list or ONE range: `[a-z0-9]` does not compile, nor do `[]`,
 *   `[!]`, `[a-]` or a range whose end is below its start. `\` escapes inside a list.
 * - `{a,b}`: alternatives, nestable; `,` and `}` are plain text outside braces, and a `{`
 *   left open at the end of the pattern still counts as alternatives. In policy CSV the
 *   field must be quoted (`"{a,b}"`), or the comma splits it.
 * - `\x`: the character x. A trailing `\` is dropped.
 * - Go's lexer reads a NUL character as the end of input and fails on U+FFFD.
 *
 * `test` is the meaning of the pattern. gobwas v0.2.3's optimizing matcher has bugs (found by
 * comparing with it on random patterns), and Argo CD answers with them:
 * - `start*art` matches "start" (https://github.com/gobwas/glob/issues/61: its prefix-suffix
 *   matcher lets prefix and suffix overlap), and a lone `?` matches "".
 * - `{a,}{a,}a` does not match "a" (https://github.com/gobwas/glob/issues/62), and patterns with an empty alternative, an
 *   empty `{}` group or a `{` left open at the end give wrong answers or panic (in Argo CD a
 *   panic fails the whole check: casbin recovers it as an error).
 * SECURITY: so that the sidecar is never looser than Argo CD, a matcher also answers `strict`
 * (matches only where both the meaning and gobwas match: for granting) and `lenient`
 * (matches where either may match: for denying). They differ from `test` only for patterns
 * of those shapes, which are not written in practice.
 */

import { RE2JS } from 're2js';
import type { RegexPattern } from './regex-pattern';

type Token =
  | { kind: 'text'; raw: string }
  | { kind: 'any' | 'super' | 'single' | 'rangeOpen' | 'rangeClose' | 'not' | 'between' }
  | { kind: 'rangeLo' | 'rangeHi'; raw: string }
  | { kind: 'termsOpen' | 'separator' | 'termsClose' | 'eof' };

const EOF = '';
const MAIN_BREAKERS = ['?', '*', '[', '{'];
const TERMS_BREAKERS = [...MAIN_BREAKERS, '}', ','];

/** Splits a pattern into gobwas tokens; undefined when gobwas's lexer reports an error. */
function lexGlob(pattern: string): Token[] | undefined {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  let pos = 0;
  let lastWidth = 0;
  let termsLevel = 0;
  let failed = false;

  // gobwas's lexer reads rune 0 both at the end and for a NUL (which it consumes), and fails
  // on U+FFFD (its utf8.RuneError check).
  const peek = (): string => {
    if (failed || pos >= chars.length) return EOF;
    const c = chars[pos];
    if (c === '\uFFFD') failed = true;
    return c === '\0' || c === '\uFFFD' ? EOF : c;
  };
  const read = (): string => {
    const c = peek();
    lastWidth = pos < chars.length && !failed ? 1 : 0;
    pos += lastWidth;
    return c;
  };
  const unread = (): void => {
    pos -= lastWidth;
  };

  const fetchText = (breakers: string[]): void => {
    let text = '';
    let escaped = false;
    for (;;) {
      const c = read();
      if (c === EOF) break;
      if (!escaped && c === '\\') {
        escaped = true;
        continue;
      }
      if (!escaped && breakers.includes(c)) {
        unread();
        break;
      }
      escaped = false;
      text += c;
    }
    if (text !== '') tokens.push({ kind: 'text', raw: text });
  };

  const fetchRange = (): boolean => {
    let wantHi = false;
    let wantClose = false;
    let seenNot = false;
    for (;;) {
      const c = read();
      if (c === EOF) return false;
      if (wantClose) {
        tokens.push({ kind: 'rangeClose' });
        return c === ']';
      }
      if (wantHi) {
        tokens.push({ kind: 'rangeHi', raw: c });
        wantClose = true;
      } else if (!seenNot && c === '!') {
        tokens.push({ kind: 'not' });
        seenNot = true;
      } else if (peek() === '-') {
        pos += 1;
        tokens.push({ kind: 'rangeLo', raw: c }, { kind: 'between' });
        wantHi = true;
      } else {
        unread();
        fetchText([']']);
        wantClose = true;
      }
    }
  };

  for (;;) {
    const c = read();
    if (failed) return undefined;
    if (c === EOF) {
      tokens.push({ kind: 'eof' });
      return tokens;
    }
    if (c === '{') {
      termsLevel += 1;
      tokens.push({ kind: 'termsOpen' });
    } else if (c === ',' && termsLevel > 0) {
      tokens.push({ kind: 'separator' });
    } else if (c === '}' && termsLevel > 0) {
      termsLevel -= 1;
      tokens.push({ kind: 'termsClose' });
    } else if (c === '[') {
      tokens.push({ kind: 'rangeOpen' });
      if (!fetchRange() || failed) return undefined;
    } else if (c === '?') {
      tokens.push({ kind: 'single' });
    } else if (c === '*') {
      if (read() === '*') {
        tokens.push({ kind: 'super' });
      } else {
        unread();
        tokens.push({ kind: 'any' });
      }
    } else {
      unread();
      fetchText(termsLevel > 0 ? TERMS_BREAKERS : MAIN_BREAKERS);
    }
    if (failed) return undefined;
  }
}

/** Escapes one code point for a JS `u`-mode RegExp, inside or outside a class. */
function escapeRegExpChar(c: string): string {
  return /^[A-Za-z0-9]$/.test(c) ? c : `\\x{${c.codePointAt(0)!.toString(16)}}`;
}

/** Parses a `[...]` class from the tokens after `rangeOpen`; returns its RE2 source. */
function parseRange(tokens: Token[], start: number): { source: string; next: number } | undefined {
  let not = false;
  let lo: string | undefined;
  let hi: string | undefined;
  let chars = '';
  for (let i = start; i < tokens.length; i += 1) {
    const token = tokens[i];
    switch (token.kind) {
      case 'not':
        not = true;
        break;
      case 'rangeLo':
        lo = token.raw;
        break;
      case 'rangeHi':
        hi = token.raw;
        if (lo !== undefined && hi.codePointAt(0)! < lo.codePointAt(0)!) return undefined;
        break;
      case 'text':
        chars = token.raw;
        break;
      case 'between':
        break;
      case 'rangeClose': {
        const isRange = lo !== undefined && hi !== undefined;
        if (isRange === (chars !== '')) return undefined;
        const body = isRange
          ? `${escapeRegExpChar(lo!)}-${escapeRegExpChar(hi!)}`
          : Array.from(chars, escapeRegExpChar).join('');
        return { source: `[${not ? '^' : ''}${body}]`, next: i + 1 };
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * Builds the RE2 source of a token list; alternatives nest as `(?:a|b)`. `uncertain`: the
 * pattern has an alternatives group where gobwas v0.2.3 answers wrongly or panics.
 */
function buildSource(tokens: Token[]): { source: string; uncertain: boolean } | undefined {
  let uncertain = false;
  // Each open `{` keeps the alternatives seen so far and the text of the current one.
  const stack: { done: string[]; current: string }[] = [{ done: [], current: '' }];
  const top = () => stack[stack.length - 1];
  for (let i = 0; i < tokens.length;) {
    const token = tokens[i];
    i += 1;
    switch (token.kind) {
      case 'text':
        top().current += Array.from(token.raw, escapeRegExpChar).join('');
        break;
      case 'any':
      case 'super':
        // `.` matches "\n" too: the pattern is compiled with the `s` flag.
        top().current += '.*';
        break;
      case 'single':
        top().current += '.';
        break;
      case 'rangeOpen': {
        const range = parseRange(tokens, i);
        if (range === undefined) return undefined;
        top().current += range.source;
        i = range.next;
        break;
      }
      case 'termsOpen':
        stack.push({ done: [], current: '' });
        break;
      case 'separator':
        top().done.push(top().current);
        top().current = '';
        break;
      case 'termsClose':
      case 'eof': {
        // gobwas's parser stops at the end even inside braces: close any still open.
        const closing = token.kind === 'eof' ? stack.length - 1 : 1;
        if (token.kind === 'eof' && closing > 0) uncertain = true;
        for (let n = 0; n < closing; n += 1) {
          const terms = stack.pop()!;
          const alternatives = [...terms.done, terms.current];
          if (alternatives.includes('')) uncertain = true;
          top().current += `(?:${alternatives.join('|')})`;
        }
        if (token.kind === 'eof') return { source: top().current, uncertain };
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/** A compiled glob pattern: its meaning, and the bounds of what Argo CD may answer. */
export interface GlobMatcher extends RegexPattern {
  /** Matches only where the meaning and gobwas v0.2.3 both match: use it to grant. */
  strict(text: string): boolean;
  /** Matches where the meaning or gobwas v0.2.3 may match: use it to deny. */
  lenient(text: string): boolean;
}

/** A run of text with no glob syntax, a run of stars, a run of text: gobwas's PrefixSuffix. */
const PREFIX_SUFFIX = /^([^*?[\]{}\\\0\uFFFD]+)\*+([^*?[\]{}\\\0\uFFFD]+)$/u;

/**
 * Compiles a glob pattern to an anchored matcher with gobwas/glob semantics and no
 * separators. Returns undefined when gobwas/glob would fail to compile it (Argo CD then
 * matches nothing).
 * Example: `compileGlobPattern('team-*')!.test('team-a/b') === true`.
 *
 * SECURITY: the text is the extension name of the request path (RBAC) or an application's
 * destination, so matching must not backtrack: a JS RegExp took 11 s for `*a*a*a*a*b`
 * against a 253-character name. RE2 (re2js) matches in time linear in the text, as gobwas's
 * own matchers do.
 */
export function compileGlobPattern(pattern: string): GlobMatcher | undefined {
  const tokens = lexGlob(pattern);
  if (tokens === undefined) return undefined;
  const built = buildSource(tokens);
  if (built === undefined) return undefined;
  const compiled = RE2JS.compile(`(?s)^(?:${built.source})$`);
  const test = (text: string): boolean => compiled.test(text);
  if (built.uncertain) {
    return { test, strict: () => false, lenient: () => true };
  }
  if (pattern === '?') {
    // gobwas's Single matcher decodes one rune and accepts the empty string too.
    return { test, strict: test, lenient: (text) => Array.from(text).length <= 1 };
  }
  const prefixSuffix = PREFIX_SUFFIX.exec(pattern);
  if (prefixSuffix) {
    const [, prefix, suffix] = prefixSuffix;
    return {
      test,
      strict: test,
      lenient: (text) => text.startsWith(prefix) && text.endsWith(suffix),
    };
  }
  return { test, strict: test, lenient: test };
}
