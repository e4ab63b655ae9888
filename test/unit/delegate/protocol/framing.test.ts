import fc from 'fast-check';
import {
  END_STREAM,
  Frame,
  frameHeader,
  FrameParser,
  FrameType,
  FramingError,
  HEADER_BYTES,
  MAX_PAYLOAD,
  u32Payload,
} from '../../../../proxy-server/src/delegate/protocol/framing';

function encode(frames: Array<Omit<Frame, 'payload'> & { payload: Buffer }>): Buffer {
  return Buffer.concat(
    frames.flatMap((f) => [frameHeader(f.type, f.flags, f.stream, f.payload.length), f.payload]),
  );
}

function parseAll(chunks: Buffer[]): Frame[] {
  const out: Frame[] = [];
  const parser = new FrameParser((f) => out.push({ ...f, payload: Buffer.from(f.payload) }));
  for (const c of chunks) parser.push(c);
  expect(parser.buffered).toBe(0);
  return out;
}

const frameArb = fc.record({
  type: fc.constantFrom(...([1, 2, 3, 4, 5, 6, 7] as FrameType[])),
  flags: fc.constantFrom(0, END_STREAM),
  stream: fc.nat({ max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

describe('delegate framing', () => {
  it('round-trips any frames, however the bytes are cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const bytes = encode(frames);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(last, p));
            last = p;
          }
          chunks.push(bytes.subarray(last));
          expect(parseAll(chunks)).toEqual(frames);
        },
      ),
    );
  });

  it('joins a large frame arriving in small chunks once', () => {
    const payload = Buffer.alloc(MAX_PAYLOAD, 7);
    const bytes = encode([{ type: FrameType.DATA, flags: END_STREAM, stream: 3, payload }]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      const [frame] = parseAll(chunks);
      expect(frame.payload.equals(payload)).toBe(true);
      expect(concat).toHaveBeenCalledTimes(1);
    } finally {
      concat.mockRestore();
    }
  });

  it('refuses unknown types and oversized frames', () => {
    const parser = new FrameParser(() => undefined);
    const bad = frameHeader(FrameType.DATA, 0, 1, 0);
    bad[0] = 9;
    expect(() => parser.push(bad)).toThrow(new FramingError('unknown frame type 9'));
    const huge = frameHeader(FrameType.DATA, 0, 1, 0);
    huge.writeUInt32BE(MAX_PAYLOAD + 1, 6);
    expect(() => new FrameParser(() => undefined).push(huge)).toThrow(FramingError);
    expect(() => frameHeader(FrameType.DATA, 0, 1, MAX_PAYLOAD + 1)).toThrow(FramingError);
  });

  it('holds an incomplete frame until the rest arrives', () => {
    const out: Frame[] = [];
    const parser = new FrameParser((f) => out.push(f));
    const bytes = encode([
      { type: FrameType.WINDOW, flags: 0, stream: 5, payload: u32Payload(65536) },
    ]);
    parser.push(bytes.subarray(0, HEADER_BYTES + 1));
    expect(out).toEqual([]);
    expect(parser.buffered).toBe(HEADER_BYTES + 1);
    parser.push(bytes.subarray(HEADER_BYTES + 1));
    expect(out).toHaveLength(1);
    expect(out[0].payload.readUInt32BE(0)).toBe(65536);
  });
});
