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
 * The result is the meaning of the pattern. gobwas v0.2.3's optimizing matcher has bugs that
 * this port does not reproduce (found by comparing with it on random patterns):
 * - `start*art` matches "start" (https://github.com/gobwas/glob/issues/61) and a lone `?`
 *   matches "": SECURITY: such patterns grant no more here than they say.
 * - `{a,}{a,}a` does not match "a" (issue 62), and patterns with an empty `{}` group (or a
 *   `{` left open at the end) give wrong answers or panic; in Argo CD a panic fails the
 *   whole check (casbin recovers it as an error). Such patterns are not written in practice.
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

/** Builds the RE2 source of a token list; alternatives nest as `(?:a|b)`. */
function buildSource(tokens: Token[]): string | undefined {
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
        for (let n = 0; n < closing; n += 1) {
          const terms = stack.pop()!;
          top().current += `(?:${[...terms.done, terms.current].join('|')})`;
        }
        if (token.kind === 'eof') return top().current;
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * Compiles a glob pattern to an anchored matcher with gobwas/glob semantics and no
 * separators. Returns undefined when gobwas/glob would fail to compile it.
 * Example: `compileGlobPattern('team-*')!.test('team-a/b') === true`.
 *
 * SECURITY: the text is the extension name of the request path (RBAC) or an application's
 * destination, so matching must not backtrack: a JS RegExp took 11 s for `*a*a*a*a*b`
 * against a 253-character name. RE2 (re2js) matches in time linear in the text, as gobwas's
 * own matchers do.
 */
export function compileGlobPattern(pattern: string): RegexPattern | undefined {
  const tokens = lexGlob(pattern);
  if (tokens === undefined) return undefined;
  const source = buildSource(tokens);
  if (source === undefined) return undefined;
  const compiled = RE2JS.compile(`(?s)^(?:${source})$`);
  return { test: (text) => compiled.test(text) };
}
