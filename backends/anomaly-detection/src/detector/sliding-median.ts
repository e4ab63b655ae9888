/**
 * Median (and MAD) of the last `capacity` pushed values, ignoring NaN (gaps).
 * Keeps a sorted copy, so a push costs O(capacity) and a median O(1).
 */
export class SlidingMedian {
  private readonly ring: number[] = [];
  /**
   * The values with data, ascending, in `sorted[0..size)`. A typed array moved with
   * copyWithin: the detector pushes into several windows of up to a day of points for
   * every point, and Array.prototype.splice was its largest single cost (17 % of a 1h
   * range at 15 s, `node --cpu-prof`).
   */
  private readonly sorted: Float64Array;
  private size = 0;
  private next = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number >= 1, got ${capacity}`);
    }
    this.sorted = new Float64Array(capacity);
  }

  /**
   * Adds a value (NaN counts as a slot with no data) and drops the oldest when full.
   * Returns the value dropped (NaN for an empty slot), or undefined when nothing was.
   */
  push(value: number): number | undefined {
    const sorted = this.sorted;
    let dropped: number | undefined;
    if (this.ring.length === this.capacity) {
      dropped = this.ring[this.next];
      this.ring[this.next] = value;
      this.next = (this.next + 1) % this.capacity;
    } else {
      this.ring.push(value);
    }
    const removing = dropped !== undefined && !Number.isNaN(dropped);
    const adding = !Number.isNaN(value);
    if (removing && adding) {
      // One move of the values between the two places instead of two of half the window:
      // what is left is the same sorted array.
      const from = lowerBound(sorted, this.size, dropped as number);
      const to = lowerBound(sorted, this.size, value);
      if (to <= from) {
        sorted.copyWithin(to + 1, to, from);
        sorted[to] = value;
      } else {
        sorted.copyWithin(from, from + 1, to);
        sorted[to - 1] = value;
      }
    } else if (removing) {
      const at = lowerBound(sorted, this.size, dropped as number);
      sorted.copyWithin(at, at + 1, this.size);
      this.size--;
    } else if (adding) {
      const at = lowerBound(sorted, this.size, value);
      sorted.copyWithin(at + 1, at, this.size);
      sorted[at] = value;
      this.size++;
    }
    return dropped;
  }

  /** Number of values with data in the window. */
  get count(): number {
    return this.size;
  }

  median(): number {
    const n = this.size;
    if (n === 0) return NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? this.sorted[mid] : (this.sorted[mid - 1] + this.sorted[mid]) / 2;
  }

  /**
   * Median absolute deviation from the median. O(capacity): the deviations below and above
   * the median are each already sorted, so they are merged up to the middle instead of
   * being sorted again (this is the detector's hottest loop).
   */
  mad(): number {
    const sorted = this.sorted;
    const n = this.size;
    if (n === 0) return NaN;
    const m = this.median();
    let below = lowerBound(sorted, n, m) - 1; // deviations m − v grow as `below` goes down
    let above = below + 1; // deviations v − m grow as `above` goes up
    let previous = NaN;
    let current = NaN;
    // No globals (such as Infinity) in this loop: under jest's vm sandbox each global
    // lookup is slow, and this loop runs millions of times.
    for (let k = 0; k <= n >> 1; k++) {
      previous = current;
      if (above >= n || (below >= 0 && m - sorted[below] <= sorted[above] - m)) {
        current = m - sorted[below--];
      } else {
        current = sorted[above++] - m;
      }
    }
    return n % 2 === 1 ? current : (previous + current) / 2;
  }
}

/** Median of an unsorted array (NaN when empty). Does not modify the input. */
export function medianOf(values: readonly number[]): number {
  return medianOfSorted([...values].sort((a, b) => a - b));
}

/**
 * Median of `values[0..count)` (NaN when count is 0), the same as medianOf of them. Sorts
 * that part of `values` in place: for the few values of a seasonal median (at most 5) an
 * insertion sort without allocation.
 */
export function medianOfFirst(values: Float64Array, count: number): number {
  if (count === 0) return NaN;
  for (let i = 1; i < count; i++) {
    const v = values[i];
    let j = i - 1;
    while (j >= 0 && values[j] > v) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = v;
  }
  const mid = count >> 1;
  return count % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The first index of `sorted[0..size)` whose value is not below `value`. */
function lowerBound(sorted: Float64Array, size: number, value: number): number {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
