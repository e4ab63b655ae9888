/**
 * Median (and MAD) of the last `capacity` pushed values, ignoring NaN (gaps).
 * Keeps a sorted copy, so a push costs O(capacity) and a median O(1).
 */
export class SlidingMedian {
  private readonly ring: number[] = [];
  private readonly sorted: number[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  /** Adds a value (NaN counts as a slot with no data) and drops the oldest when full. */
  push(value: number): void {
    if (this.ring.length === this.capacity) {
      const oldest = this.ring[this.next];
      if (!Number.isNaN(oldest)) this.sorted.splice(lowerBound(this.sorted, oldest), 1);
      this.ring[this.next] = value;
      this.next = (this.next + 1) % this.capacity;
    } else {
      this.ring.push(value);
    }
    if (!Number.isNaN(value)) this.sorted.splice(lowerBound(this.sorted, value), 0, value);
  }

  /** Number of values with data in the window. */
  get count(): number {
    return this.sorted.length;
  }

  median(): number {
    return medianOfSorted(this.sorted);
  }

  /**
   * Median absolute deviation from the median. O(capacity): the deviations below and above
   * the median are each already sorted, so they are merged up to the middle instead of
   * being sorted again (this is the detector's hottest loop).
   */
  mad(): number {
    const sorted = this.sorted;
    const n = sorted.length;
    if (n === 0) return NaN;
    const m = medianOfSorted(sorted);
    let below = lowerBound(sorted, m) - 1; // deviations m − v grow as `below` goes down
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

function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
