/**
 * Escaping for values placed into PromQL. SECURITY: every value that comes from a request
 * goes through one of these before it is put into a query; a template never concatenates
 * raw input (a name such as `a"}) or vector(1) #` would otherwise rewrite the query).
 */

/**
 * Escapes `value` for the inside of a double-quoted PromQL string literal. PromQL strings
 * follow Go's escaping rules (prometheus/promql/parser/lex.go), so backslash, double quote
 * and control characters are escaped; anything else is literal.
 */
export function escapePromqlString(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  return value.replace(/[\\"\u0000-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

/** RE2 metacharacters, as Go's regexp.QuoteMeta escapes them. */
const REGEX_META = /[\\.+*?()|[\]{}^$]/g;

/** Quotes `value` so it matches itself literally in an RE2 regex (Go's `regexp.QuoteMeta`). */
export function quoteRegex(value: string): string {
  return value.replace(REGEX_META, '\\$&');
}
