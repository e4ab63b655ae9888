/** Limits of a {@link BoundedCache}. */
export interface CacheLimits {
  /** Most entries kept. */
  maxEntries: number;
  /** Most bytes kept, as weighed by the caller on each `set`. Default: unlimited. */
  maxBytes?: number;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
  bytes: number;
  /** Read since it was stored or last passed over by eviction (the "second chance" bit). */
  used: boolean;
}

/**
 * A size- (and optionally byte-) bounded map whose entries expire. Expiry is checked on
 * read, so an expired entry is never returned even if it was not evicted yet.
 *
 * Eviction approximates LRU with a second chance (CLOCK): a hit only sets a flag on its
 * entry; when the cache is full, the oldest entry goes unless it was read since it was
 * stored, in which case it moves to the back with its flag cleared. A hit therefore never
 * changes the map. Moving every hit to the back (delete and re-insert) would make V8 rebuild
 * the map's hash table on nearly every request; for a long-lived map those tables are
 * allocated in the old generation, and at ~20,000 hits/s they would be most of what fills
 * it, forcing a full garbage collection every second or so.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, Slot<V>>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private totalBytes = 0;

  constructor(
    limits: number | CacheLimits,
    private readonly now: () => number = Date.now,
  ) {
    const { maxEntries, maxBytes } = typeof limits === 'number' ? { maxEntries: limits } : limits;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes ?? Infinity;
  }

  get(key: string): V | undefined {
    const slot = this.entries.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.remove(key, slot);
      return undefined;
    }
    slot.used = true;
    return slot.value;
  }

  /**
   * Stores until `expiresAt` (ms since the epoch), weighing `bytes` against the byte
   * budget. Evicts as many entries as both limits need; a cache with no room at all
   * (maxEntries 0) stores nothing.
   */
  set(key: string, value: V, expiresAt: number, bytes = 0): void {
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    if (this.maxEntries <= 0 || bytes > this.maxBytes) return;
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.maxEntries || this.totalBytes + bytes > this.maxBytes)
    ) {
      this.evictOne();
    }
    this.entries.set(key, { value, expiresAt, bytes, used: false });
    this.totalBytes += bytes;
  }

  delete(key: string): void {
    const slot = this.entries.get(key);
    if (slot) this.remove(key, slot);
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The weight of the entries held, as given to `set`. */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Evicts one entry: the oldest that has expired or was not read since it was stored or
   * last passed over. Ends within one pass: every entry passed over loses its flag.
   */
  private evictOne(): void {
    const now = this.now();
    for (;;) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [key, slot] = oldest.value;
      this.entries.delete(key);
      if (slot.used && slot.expiresAt > now) {
        slot.used = false;
        this.entries.set(key, slot);
        continue;
      }
      this.totalBytes -= slot.bytes;
      return;
    }
  }

  private remove(key: string, slot: Slot<V>): void {
    this.entries.delete(key);
    this.totalBytes -= slot.bytes;
  }
}
