import { compileGlobPattern } from '../../../proxy-server/src/rbac/glob-pattern';
import { createMatchFunction } from '../../../proxy-server/src/rbac/match-function';
import { RegexPatternError } from '../../../proxy-server/src/rbac/regex-pattern';
import { GLOB_CASES, REGEX_CASES, REGEX_DIFFERENCES } from './pattern-cases';

function matchGlob(pattern: string, text: string): boolean | 'invalid' {
  const compiled = compileGlobPattern(pattern);
  return compiled === undefined ? 'invalid' : compiled.test(text);
}

/** The regex mode's answer, as casbin calls it (text first); 'invalid' when it throws. */
function matchRegex(pattern: string, text: string): boolean | 'invalid' {
  try {
    return createMatchFunction('regex')(text, pattern);
  } catch (error) {
    if (error instanceof RegexPatternError) return 'invalid';
    throw error;
  }
}

describe('compileGlobPattern', () => {
  it.each(GLOB_CASES)('$pattern on $text -> $expected', ({ pattern, text, expected }) => {
    expect(matchGlob(pattern, text)).toBe(expected);
  });
});

describe('regex mode answers like Go regexp.MatchString (re2js)', () => {
  it.each(REGEX_CASES)('$pattern on $text -> $expected', ({ pattern, text, expected }) => {
    expect(matchRegex(pattern, text)).toBe(expected);
  });
});

describe('regex mode: known differences from Go', () => {
  it.each(REGEX_DIFFERENCES)('$title', ({ pattern, text, expected, go }) => {
    expect(expected).not.toBe(go);
    expect(matchRegex(pattern, text)).toBe(expected);
  });
});

describe('createMatchFunction', () => {
  it('matches nothing for a glob that does not compile', () => {
    expect(createMatchFunction('glob')('a', '[a-z0-9]')).toBe(false);
  });

  it('throws for an invalid regex so the whole check fails, as in Argo CD', () => {
    expect(() => createMatchFunction('regex')('a', '(')).toThrow(RegexPatternError);
  });

  it('throws again for the cached invalid regex', () => {
    const match = createMatchFunction('regex');
    expect(() => match('a', 'a**')).toThrow(RegexPatternError);
    expect(() => match('b', 'a**')).toThrow(RegexPatternError);
  });

  it('takes text first and pattern second, like casbin calls it', () => {
    expect(createMatchFunction('glob')('team-a', 'team-*')).toBe(true);
    expect(createMatchFunction('regex')('team-a', '^team')).toBe(true);
  });
});
