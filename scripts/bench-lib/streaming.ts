/**
 * 1 GiB through the sidecar each way, from this process: throughput, and the sidecar's
 * memory growth (its peak RSS during the transfer minus its RSS before it).
 */
import http from 'http';
import { Readable } from 'stream';
import { peakRssMiB, resetPeakRss, rssMiB } from '../../test/helpers/processes';

export interface StreamResult {
  direction: 'upload' | 'download';
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  rssGrowthMiB: number;
  ok: boolean;
  detail: string;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x63);

/** A body of exactly `bytes` bytes, generated as it is read (nothing held in memory). */
function generated(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      this.push(piece);
    },
  });
}

export async function streamThrough(
  direction: 'upload' | 'download',
  baseUrl: string,
  headers: Record<string, string>,
  bytes: number,
  sidecarPid: number,
): Promise<StreamResult> {
  const before = rssMiB([sidecarPid]);
  resetPeakRss([sidecarPid]);
  const started = process.hrtime.bigint();
  const url = new URL(
    direction === 'download' ? `${baseUrl}/stream?bytes=${bytes}` : `${baseUrl}/upload`,
  );
  const { status, received, body } = await new Promise<{
    status: number;
    received: number;
    body: string;
  }>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: direction === 'download' ? 'GET' : 'POST',
        headers:
          direction === 'upload'
            ? { ...headers, 'content-type': 'application/octet-stream', 'content-length': bytes }
            : headers,
        timeout: 300_000,
      },
      (res) => {
        let count = 0;
        let text = '';
        res.on('data', (chunk: Buffer) => {
          count += chunk.length;
          if (direction === 'upload' && text.length < 1000) text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, received: count, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    if (direction === 'upload') generated(bytes).pipe(req);
    else req.end();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const growth = peakRssMiB([sidecarPid]) - before;
  const delivered =
    direction === 'download'
      ? received
      : Number((JSON.parse(body || '{}') as { received?: number }).received ?? 0);
  const ok = status === 200 && delivered === bytes;
  return {
    direction,
    bytes,
    seconds,
    mibPerSecond: bytes / 1024 / 1024 / seconds,
    rssGrowthMiB: growth,
    ok,
    detail: ok ? '' : `status ${status}, ${delivered} of ${bytes} bytes arrived`,
  };
}
