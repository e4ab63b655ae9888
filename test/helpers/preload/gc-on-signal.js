'use strict';
// Test instrumentation, never part of the product: loaded with
//   node --expose-gc --require test/helpers/preload/gc-on-signal.js ...
// On SIGUSR2 the process runs a full garbage collection and prints one line on stderr:
//   gc-on-signal {"heapUsedBytes":N,"rssBytes":N}
// so the soak can compare what is alive at the start and at the end of a run, free of the
// garbage that happens to be waiting for collection at that moment.
if (typeof global.gc !== 'function') {
  throw new Error('gc-on-signal.js needs node --expose-gc');
}
process.on('SIGUSR2', () => {
  global.gc();
  // A second pass collects what the first one's finalizers released.
  setImmediate(() => {
    global.gc();
    const { heapUsed, rss } = process.memoryUsage();
    process.stderr.write(
      `gc-on-signal ${JSON.stringify({ heapUsedBytes: heapUsed, rssBytes: rss })}\n`,
    );
  });
});
