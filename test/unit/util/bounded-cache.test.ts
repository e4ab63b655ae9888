import { BoundedCache } from '../../../proxy-server/src/util/bounded-cache';

describe('BoundedCache', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('returns what was stored until it expires, never after', () => {
    const cache = new BoundedCache<string>(10, clock);
    cache.set('a', 'A', 2_000);
    expect(cache.get('a')).toBe('A');
    now = 1_999;
    expect(cache.get('a')).toBe('A');
    now = 2_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry that was not read since it was stored', () => {
    const cache = new BoundedCache<string>(3, clock);
    cache.set('a', 'A', 9_000);
    cache.set('b', 'B', 9_000);
    cache.set('c', 'C', 9_000);
    expect(cache.get('a')).toBe('A');
    cache.set('d', 'D', 9_000);
    // 'a' was read: it got a second chance; 'b' was the oldest unread entry.
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual(['A', 'C', 'D']);
    expect(cache.size).toBe(3);
  });

  it('evicts the oldest entry when every entry was read (one pass clears the flags)', () => {
    const cache = new BoundedCache<string>(3, clock);
    for (const key of ['a', 'b', 'c']) cache.set(key, key, 9_000);
    for (const key of ['a', 'b', 'c']) cache.get(key);
    cache.set('d', 'd', 9_000);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    // 'b' and 'c' lost their flag when passed over: the next unread one goes next.
    cache.set('e', 'e', 9_000);
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('c'), cache.get('d'), cache.get('e')]).toEqual(['c', 'd', 'e']);
  });

  it('evicts an expired entry before a live one, even if it was read', () => {
    const cache = new BoundedCache<string>(2, clock);
    cache.set('short', 'S', 1_500);
    cache.set('long', 'L', 9_000);
    cache.get('short');
    now = 1_600;
    cache.set('new', 'N', 9_000);
    expect(cache.get('long')).toBe('L');
    expect(cache.get('new')).toBe('N');
    expect(cache.get('short')).toBeUndefined();
  });

  it('keeps the total weight within maxBytes, evicting as many entries as needed', () => {
    const cache = new BoundedCache<string>({ maxEntries: 100, maxBytes: 1_000 }, clock);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, 'v', 9_000, 100);
    expect(cache.bytes).toBe(1_000);
    cache.set('big', 'v', 9_000, 450);
    expect(cache.bytes).toBeLessThanOrEqual(1_000);
    expect(cache.size).toBe(6);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k4')).toBeUndefined();
    expect(cache.get('k5')).toBe('v');
    expect(cache.get('big')).toBe('v');
  });

  it('refuses an entry heavier than the whole budget, and stores nothing when maxEntries is 0', () => {
    const weighed = new BoundedCache<string>({ maxEntries: 10, maxBytes: 100 }, clock);
    weighed.set('small', 'v', 9_000, 10);
    weighed.set('huge', 'v', 9_000, 101);
    expect(weighed.get('huge')).toBeUndefined();
    expect(weighed.get('small')).toBe('v');
    const off = new BoundedCache<string>(0, clock);
    off.set('a', 'A', 9_000);
    expect(off.size).toBe(0);
  });

  it('replaces an entry in place of weight, and forgets on delete and clear', () => {
    const cache = new BoundedCache<string>({ maxEntries: 10, maxBytes: 1_000 }, clock);
    cache.set('a', 'A1', 9_000, 300);
    cache.set('a', 'A2', 9_000, 200);
    expect(cache.get('a')).toBe('A2');
    expect(cache.bytes).toBe(200);
    cache.set('b', 'B', 9_000, 100);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.bytes).toBe(100);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });

  it('stays within its bounds under any sequence of reads and writes', () => {
    const cache = new BoundedCache<number>({ maxEntries: 50, maxBytes: 2_000 }, clock);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(random() * 3);
      const key = `k${Math.floor(random() * 200)}`;
      if (random() < 0.5) cache.get(key);
      else cache.set(key, i, now + Math.floor(random() * 500), Math.floor(random() * 120));
      expect(cache.size).toBeLessThanOrEqual(50);
      expect(cache.bytes).toBeLessThanOrEqual(2_000);
      expect(cache.bytes).toBeGreaterThanOrEqual(0);
    }
  });
});
