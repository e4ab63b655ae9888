import { IncomingMessage } from 'http';
import { Transform, TransformCallback } from 'stream';
import { LimitsConfig, RateLimitConfig, TokenBucketConfig } from '../config/types';
import { HeadersTooLargeError, PayloadTooLargeError, TooManyRequestsError } from '../errors';
import { BoundedCache } from '../util/bounded-cache';

/**
 * The extension's request limits (extension-proxy only fields of `backend`): header and
 * body size, and rate limits per user and per extension. Each check throws the error the
 * client gets; nothing here runs for an extension without limits.
 */

/** 431 when the header block (names, values, separators) is larger than allowed. */
export function checkHeaderSize(req: IncomingMessage, limits: LimitsConfig): void {
  const max = limits.maxRequestHeaderBytes;
  if (max === undefined) return;
  let bytes = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i++) bytes += raw[i].length + 2;
  if (bytes > max) {
    throw new HeadersTooLargeError(`request headers exceed ${max} bytes for this extension`);
  }
}

/** 413 at once when Content-Length already says the body is too large. */
export function checkDeclaredBodySize(req: IncomingMessage, limits: LimitsConfig): void {
  const max = limits.maxRequestBodyBytes;
  const length = req.headers['content-length'];
  if (max !== undefined && length !== undefined && Number(length) > max) {
    throw new PayloadTooLargeError(`request body exceeds ${max} bytes for this extension`);
  }
}

/**
 * Counts a body of unknown length (chunked) on its way to the backend and fails it past
 * the limit: the backend request is aborted, the client gets 413.
 */
export class BodyLimit extends Transform {
  private seen = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      done(new PayloadTooLargeError(`request body exceeds ${this.max} bytes for this extension`));
      return;
    }
    done(null, chunk);
  }
}

/** A token bucket: `requestsPerSecond` sustained, up to `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly config: TokenBucketConfig,
    now: number,
  ) {
    this.tokens = config.burst;
    this.last = now;
  }

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(now: number): number {
    const { requestsPerSecond, burst } = this.config;
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * requestsPerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / requestsPerSecond;
  }
}

/** Users tracked per extension; beyond this, users not seen recently are forgotten. */
const MAX_TRACKED_USERS = 10_000;

/**
 * Rate limits of one extension: the user's bucket first, then the extension's; both must
 * allow a request. State lives with the configuration (a reload starts afresh), and at most
 * 10,000 users are tracked per extension, in a BoundedCache: a request only marks its
 * user's bucket as used (never re-inserts it, see bounded-cache.ts for why), and users not
 * seen recently are forgotten first.
 */
export class RateLimiter {
  private readonly extension?: TokenBucket;
  private readonly users: BoundedCache<TokenBucket>;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {
    if (config.perExtension) this.extension = new TokenBucket(config.perExtension, now());
    this.users = new BoundedCache(MAX_TRACKED_USERS, now);
  }

  /** Throws 429 with Retry-After when a limit is reached. */
  check(user: string, onLimited: (scope: 'user' | 'extension') => void): void {
    const now = this.now();
    if (this.config.perUser) {
      let bucket = this.users.get(user);
      if (!bucket) {
        bucket = new TokenBucket(this.config.perUser, now);
        // A bucket never expires: it is forgotten only to make room.
        this.users.set(user, bucket, Infinity);
      }
      const wait = bucket.take(now);
      if (wait > 0) {
        onLimited('user');
        throw limited('your rate limit for this extension is reached', wait);
      }
    }
    const wait = this.extension?.take(now) ?? 0;
    if (wait > 0) {
      onLimited('extension');
      throw limited('this extension is receiving too many requests', wait);
    }
  }
}

function limited(message: string, waitSeconds: number): TooManyRequestsError {
  return new TooManyRequestsError(message, {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(waitSeconds))) },
  });
}
