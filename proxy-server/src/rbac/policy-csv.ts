/**
 * Reads argocd-rbac-cm policy CSV exactly as Argo CD does (util/rbac/rbac.go,
 * `argocdAdapter.LoadPolicy` and `loadPolicyLine`): split on "\n", trim each line with Go's
 * `strings.TrimSpace`, skip blank lines and lines starting with `#`, read one record with Go's
 * `encoding/csv` (`TrimLeadingSpace`, strict quotes), then check the line type and field count.
 */

import { setImmediate as nextTurn } from 'timers/promises';

/** One policy rule: `p` (sub, res, act, obj, eft) or `g` (member, role), without the type. */
export interface PolicyRule {
  ptype: 'p' | 'g';
  values: string[];
}

/** A line Argo CD would refuse to load. `line` is 1-based within the CSV text given. */
export interface PolicyLineProblem {
  line: number;
  message: string;
}

/** Field counts including the line type (loadPolicyLine: `p` needs 6, `g` needs 3). */
const FIELD_COUNTS = { p: 6, g: 3 } as const;

/**
 * Line types that Argo CD accepts but casbin never reads: loadPolicyLine only checks that the
 * model has a section and key named like the type, and model.conf also has `r`, `e` and `m`.
 */
const IGNORED_TYPES = new Set(['r', 'e', 'm']);

// Go's unicode.IsSpace is exactly the Unicode White_Space property (JS \s differs: it has U+FEFF
// and lacks U+0085).
const GO_SPACE_EDGES = /^\p{White_Space}+|\p{White_Space}+$/gu;
const GO_LEADING_SPACE = /^\p{White_Space}+/u;

/** Trims like Go's strings.TrimSpace. */
export function trimGoSpace(text: string): string {
  // Fast path (policy lines are mostly ASCII): printable ASCII at both ends is no space.
  if (text.length > 0 && isPrintableAscii(text, 0) && isPrintableAscii(text, text.length - 1)) {
    return text;
  }
  return text.replace(GO_SPACE_EDGES, '');
}

/** A visible ASCII character (never White_Space). */
function isPrintableAscii(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code > 0x20 && code < 0x7f;
}

type CsvRecord = { fields: string[] } | { error: string };

/**
 * Reads one record of one line like Go's csv.Reader with TrimLeadingSpace and strict quotes:
 * a quote inside an unquoted field, or anything but `,` or the end after a closing quote,
 * is an error; `""` inside quotes is one quote; trailing spaces are kept.
 */
export function readCsvRecord(line: string): CsvRecord {
  const fields: string[] = [];
  let rest = line;
  for (;;) {
    if (rest.length > 0 && !isPrintableAscii(rest, 0)) rest = rest.replace(GO_LEADING_SPACE, '');
    if (!rest.startsWith('"')) {
      const comma = rest.indexOf(',');
      const field = comma >= 0 ? rest.slice(0, comma) : rest;
      if (field.includes('"')) return { error: 'bare " in a non-quoted field' };
      fields.push(field);
      if (comma < 0) return { fields };
      rest = rest.slice(comma + 1);
      continue;
    }
    let field = '';
    rest = rest.slice(1);
    for (;;) {
      const quote = rest.indexOf('"');
      if (quote < 0) return { error: 'missing closing " in a quoted field' };
      field += rest.slice(0, quote);
      rest = rest.slice(quote + 1);
      if (rest.startsWith('"')) {
        field += '"';
        rest = rest.slice(1);
      } else if (rest.startsWith(',') || rest === '') {
        break;
      } else {
        return { error: 'extraneous " in a quoted field' };
      }
    }
    fields.push(field);
    if (rest === '') return { fields };
    rest = rest.slice(1);
  }
}

/** Checks one trimmed, non-comment line; returns the rule, null for an ignored type, or a problem. */
function parsePolicyLine(line: string): PolicyRule | null | string {
  const record = readCsvRecord(line);
  if ('error' in record) return record.error;
  const [ptype, ...values] = record.fields;
  if (ptype === '') return 'the line type (first field) is empty';
  if (ptype === 'p' || ptype === 'g') {
    const want = FIELD_COUNTS[ptype];
    if (record.fields.length !== want) {
      return `a ${ptype} line needs ${want} fields, got ${record.fields.length}`;
    }
    return { ptype, values };
  }
  if (IGNORED_TYPES.has(ptype)) return null;
  return `unknown line type ${JSON.stringify(ptype)}, want p or g`;
}

/**
 * Lines parsed between two yields of {@link parsePolicyCsv}: well under a millisecond each.
 * With the young-generation collections a big policy's new objects cause, slices of 2,000
 * lines hold single requests up to 40-60 ms during a 100,000-line reload; slices of 500,
 * 10-26 ms.
 */
const LINES_PER_SLICE = 500;

/**
 * Parses policy CSV text into rules, in order, and lists every line Argo CD would refuse.
 * Argo CD refuses the whole policy when one line is bad; callers must do the same.
 *
 * Yields to the event loop every few hundred lines: parsing a 100,000-line policy takes
 * ~100 ms, which a reload must not hold requests up for. Lines are cut from the text as the
 * slices reach them (splitting ~5 MB at once took 4-16 ms).
 */
export async function parsePolicyCsv(csv: string): Promise<ParsedPolicy> {
  const parsed: ParsedPolicy = { rules: [], problems: [] };
  // The same lines as csv.split('\n'): a final "\n" is followed by one empty line.
  let from = 0;
  for (let index = 0; from <= csv.length; index++) {
    if (index > 0 && index % LINES_PER_SLICE === 0) {
      await nextTurn();
    }
    const newline = csv.indexOf('\n', from);
    const to = newline === -1 ? csv.length : newline;
    parseLineInto(parsed, csv.slice(from, to), index);
    from = to + 1;
  }
  return parsed;
}

export interface ParsedPolicy {
  rules: PolicyRule[];
  problems: PolicyLineProblem[];
}

function parseLineInto(parsed: ParsedPolicy, rawLine: string, index: number): void {
  const line = trimGoSpace(rawLine);
  if (line === '' || line.startsWith('#')) return;
  const rule = parsePolicyLine(line);
  if (typeof rule === 'string') parsed.problems.push({ line: index + 1, message: rule });
  else if (rule !== null) parsed.rules.push(rule);
}
