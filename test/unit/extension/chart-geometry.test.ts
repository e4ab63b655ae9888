import type { Point } from '../../../extension/src/api/types';
import {
  bandPath,
  linePath,
  linearScale,
  niceCeiling,
  timeTicks,
  valueExtent,
  windowBands,
} from '../../../extension/src/model/chart-geometry';

const identity = (v: number) => v;

describe('linearScale', () => {
  it('maps the domain onto the range, inverted for y', () => {
    const y = linearScale([0, 10], [100, 0]);
    expect([y(0), y(5), y(10)]).toEqual([100, 50, 0]);
  });

  it('maps a zero-width domain to the range start instead of NaN', () => {
    expect(linearScale([5, 5], [0, 100])(5)).toBe(0);
  });
});

describe('valueExtent', () => {
  it('ignores gaps', () => {
    expect(
      valueExtent([
        [1, null],
        [2, 3],
        [3, 1],
        [4, null],
      ]),
    ).toEqual([1, 3]);
  });

  it('has no extent without values', () => {
    expect(valueExtent([[1, null]])).toBeUndefined();
  });
});

describe('bandPath', () => {
  it('fills between low and high, one closed shape per run without gaps', () => {
    const path = bandPath(
      [
        [0, 1, 3],
        [10, 2, 4],
        [20, null, null],
        [30, 1, 2],
        [40, 1, 2],
      ],
      identity,
      identity,
      0,
      100,
    );
    expect(path).toBe('M0 3L10 4L10 2L0 1ZM30 2L40 2L40 1L30 1Z');
  });

  it('clamps the band to the panel and draws nothing for a lone point', () => {
    expect(
      bandPath(
        [
          [0, -5, 50],
          [10, 1, 200],
        ],
        identity,
        identity,
        0,
        100,
      ),
    ).toBe('M0 50L10 100L10 1L0 0Z');
    expect(bandPath([[0, 1, 2]], identity, identity, 0, 10)).toBe('');
  });
});

describe('niceCeiling', () => {
  it.each([
    [0.3, 0.5],
    [0.1 + 0.2, 0.5],
    [1, 1],
    [1.1, 2],
    [2.2, 2.5],
    [7, 10],
    [1234, 2000],
    [0, 1],
  ])('rounds %p up to %p', (value, nice) => {
    expect(niceCeiling(value)).toBeCloseTo(nice, 10);
  });
});

describe('linePath', () => {
  it('draws one line through consecutive points', () => {
    expect(
      linePath(
        [
          [0, 1],
          [10, 2],
          [20, 3],
        ],
        identity,
        identity,
      ),
    ).toBe('M0 1L10 2L20 3');
  });

  it('breaks the line at a gap instead of dropping to zero', () => {
    const points: Point[] = [
      [0, 1],
      [10, 2],
      [20, null],
      [30, 4],
      [40, 5],
    ];
    expect(linePath(points, identity, identity)).toBe('M0 1L10 2M30 4L40 5');
  });

  it('draws a lone point between gaps as a dot', () => {
    const points: Point[] = [
      [0, null],
      [10, 2],
      [20, null],
    ];
    expect(linePath(points, identity, identity)).toBe('M10 2L10 2');
  });

  it('is empty when there is no data', () => {
    expect(linePath([[0, null]], identity, identity)).toBe('');
  });
});

describe('windowBands', () => {
  const x = linearScale([1000, 2000], [0, 500]);
  const range = { from: 1000, to: 2000 };

  it('maps a window to its x position and width', () => {
    const [band] = windowBands([{ start: 1200, end: 1400, score: 8, metric: 'cpu' }], range, x);
    expect(band).toMatchObject({ x: 100, width: 100 });
  });

  it('clips windows that start before or end after the range', () => {
    const bands = windowBands(
      [
        { start: 500, end: 1100, score: 8, metric: 'cpu' },
        { start: 1900, end: 2600, score: 7, metric: 'memory' },
      ],
      range,
      x,
    );
    expect(bands.map((b) => [b.x, b.width])).toEqual([
      [0, 50],
      [450, 50],
    ]);
  });

  it('drops windows outside the range and widens very short ones', () => {
    const bands = windowBands(
      [
        { start: 100, end: 900, score: 8, metric: 'cpu' },
        { start: 1500, end: 1500, score: 9, metric: 'cpu' },
      ],
      range,
      x,
    );
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ x: 250, width: 2 });
  });
});

describe('timeTicks', () => {
  it('places ticks on round times within the range', () => {
    expect(timeTicks(1000, 4600, 6)).toEqual([1200, 1800, 2400, 3000, 3600, 4200]);
  });

  it('uses at most the requested number of ticks for a week', () => {
    const day = 86400;
    // Midnight of each of the 8 days from 0 to 7 days: 8 ticks, no more.
    expect(timeTicks(0, 7 * day, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((d) => d * day));
  });

  it('has no ticks for an empty range', () => {
    expect(timeTicks(5, 5, 6)).toEqual([]);
  });
});
