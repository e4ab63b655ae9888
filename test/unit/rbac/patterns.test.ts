import { compileGlobPattern } from '../../../proxy-server/src/rbac/glob-pattern';
import { compileGoRegexp, GoRegexpError } from '../../../proxy-server/src/rbac/go-regexp';
import { createMatchFunction } from '../../../proxy-server/src/rbac/match-function';
import { GLOB_CASES, REGEX_CASES } from './pattern-cases';

function matchGlob(pattern: string, text: string): boolean | 'invalid' {
  const compiled = compileGlobPattern(pattern);
  return compiled === undefined ? 'invalid' : compiled.test(text);
}

function matchRegex(pattern: string, text: string): boolean | 'invalid' {
  try {
    return compileGoRegexp(pattern).test(text);
  } catch (error) {
    if (error instanceof GoRegexpError) return 'invalid';
    throw error;
  }
}

describe('compileGlobPattern', () => {
  it.each(GLOB_CASES)('$pattern on $text -> $expected', ({ pattern, text, expected }) => {
    expect(matchGlob(pattern, text)).toBe(expected);
  });
});

describe('compileGoRegexp', () => {
  it.each(REGEX_CASES)('$pattern on $text -> $expected', ({ pattern, text, expected }) => {
    expect(matchRegex(pattern, text)).toBe(expected);
  });
});

describe('createMatchFunction', () => {
  it('matches nothing for a glob that does not compile', () => {
    expect(createMatchFunction('glob')('a', '[a-z0-9]')).toBe(false);
  });

  it('throws for an invalid regex so the whole check fails, as in Argo CD', () => {
    expect(() => createMatchFunction('regex')('a', '(')).toThrow(GoRegexpError);
  });

  it('takes text first and pattern second, like casbin calls it', () => {
    expect(createMatchFunction('glob')('team-a', 'team-*')).toBe(true);
    expect(createMatchFunction('regex')('team-a', '^team')).toBe(true);
  });
});
