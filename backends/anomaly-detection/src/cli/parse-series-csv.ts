import type { SeriesPoint } from '../detector';

/** Bad input, with the 1-based line it was found on. */
export class CsvInputError extends Error {
  override readonly name = 'CsvInputError';

  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

/** Spellings of a missing value (a gap), besides an empty field. */
const GAP_VALUES = new Set(['nan', 'null', 'none', 'na']);

/**
 * Parses `unix_seconds,value` lines (the `detect` CLI's stdin). The first non-empty line may
 * be a header (any line whose first field is not a number); blank lines are skipped; a value
 * that is empty, `NaN`, `null`, `none` or `NA` is a gap. Timestamps must be strictly ascending.
 * Throws CsvInputError naming the first bad line.
 */
export function parseSeriesCsv(text: string): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  const lines = text.split(/\r?\n/);
  let seenContent = false;
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i].trim();
    if (line === '') continue;
    const fields = line.split(',').map((f) => f.trim());
    if (!seenContent) {
      seenContent = true;
      if (!isNumber(fields[0])) continue; // a header line
    }
    if (fields.length !== 2) {
      throw new CsvInputError(
        lineNumber,
        `expected 2 fields "unix_seconds,value", got ${fields.length}`,
      );
    }
    const [timeField, valueField] = fields;
    if (!isNumber(timeField)) {
      throw new CsvInputError(lineNumber, `timestamp ${quote(timeField)} is not a number`);
    }
    const time = Number(timeField);
    const previous = points[points.length - 1];
    if (previous && time <= previous[0]) {
      throw new CsvInputError(
        lineNumber,
        `timestamp ${time} is not after the previous one (${previous[0]}); input must be ascending`,
      );
    }
    let value: number | null;
    if (valueField === '' || GAP_VALUES.has(valueField.toLowerCase())) {
      value = null;
    } else if (isNumber(valueField)) {
      value = Number(valueField);
    } else {
      throw new CsvInputError(lineNumber, `value ${quote(valueField)} is not a number`);
    }
    points.push([time, value]);
  }
  return points;
}

function isNumber(field: string | undefined): field is string {
  return field !== undefined && field !== '' && Number.isFinite(Number(field));
}

/** Quotes input for an error message, cut short so a huge line cannot flood stderr. */
function quote(field: string): string {
  return JSON.stringify(field.length > 40 ? `${field.slice(0, 40)}…` : field);
}
