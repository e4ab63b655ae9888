/**
 * The delegate tunnel's frames on the upgraded connection (docs/delegates.md, "The tunnel
 * protocol, version 2", section 3): a 10-byte header (type, flags, stream, length), then the
 * payload. This framing, not HTTP/2, because Node's HTTP/2 stream machinery costs the sidecar
 * and the agent more than twice the CPU per request on this path (docs/delegates.md, "Why this
 * framing and not HTTP/2").
 */
export enum FrameType {
  HEADERS = 1,
  DATA = 2,
  RESET = 3,
  WINDOW = 4,
  PING = 5,
  PONG = 6,
  GOAWAY = 7,
}

export const END_STREAM = 0x1;
export const HEADER_BYTES = 10;
/** Larger payloads are a protocol error: the connection is closed. */
export const MAX_PAYLOAD = 1024 * 1024;

export interface Frame {
  type: FrameType;
  flags: number;
  stream: number;
  payload: Buffer;
}

export class FramingError extends Error {}

/** The 10-byte header of a frame; the payload is written after it as is. */
export function frameHeader(
  type: FrameType,
  flags: number,
  stream: number,
  length: number,
): Buffer {
  if (length > MAX_PAYLOAD) throw new FramingError(`frame payload of ${length} bytes`);
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = type;
  header[1] = flags;
  header.writeUInt32BE(stream >>> 0, 2);
  header.writeUInt32BE(length, 6);
  return header;
}

export function u32Payload(value: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(value >>> 0, 0);
  return payload;
}

/**
 * Cuts a byte stream into frames. Feed it whatever the socket delivers; it calls `onFrame`
 * once per complete frame, in order, with payloads that are views (valid until the call
 * returns — copy to keep). Throws FramingError on an unknown type or an oversized frame,
 * after which the connection must be closed.
 */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes the incomplete frame needs in all (0 while its header is incomplete). */
  private needed = 0;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(chunk: Buffer): void {
    let buffer: Buffer;
    if (this.pendingBytes === 0) buffer = chunk;
    else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // A large frame arriving in many chunks is joined once, not at every chunk.
      if (this.pendingBytes < Math.max(this.needed, HEADER_BYTES)) return;
      buffer = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let offset = 0;
    this.needed = 0;
    while (buffer.length - offset >= HEADER_BYTES) {
      const type = buffer[offset];
      if (type < FrameType.HEADERS || type > FrameType.GOAWAY) {
        throw new FramingError(`unknown frame type ${type}`);
      }
      const length = buffer.readUInt32BE(offset + 6);
      if (length > MAX_PAYLOAD) throw new FramingError(`frame payload of ${length} bytes`);
      if (buffer.length - offset - HEADER_BYTES < length) {
        this.needed = HEADER_BYTES + length;
        break;
      }
      const start = offset + HEADER_BYTES;
      this.onFrame({
        type,
        flags: buffer[offset + 1],
        stream: buffer.readUInt32BE(offset + 2),
        payload: buffer.subarray(start, start + length),
      });
      offset = start + length;
    }
    if (offset < buffer.length) {
      // Keep a copy: the caller may reuse the chunk's memory.
      const rest = Buffer.from(buffer.subarray(offset));
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
  }

  /** Bytes of an incomplete frame held (a peer that stops mid-frame shows here). */
  get buffered(): number {
    return this.pendingBytes;
  }
}
