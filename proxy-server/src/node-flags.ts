/**
 * The V8 flags the sidecar and the agent run with: the image's ENTRYPOINT passes them (a
 * test keeps the Dockerfile equal to this list), and the tests, `npm run bench` and
 * `npm run soak` start every sidecar and agent with them, so what is measured is what runs.
 *
 * `--max-semi-space-size=8` (MiB): V8 sizes the young generation on the fly, up to 16 MiB
 * per semi-space on 64-bit Node 20-24, and gives the memory back only now and then. A proxy
 * allocates ~20 KB of short-lived objects per request, so under load the young generation
 * grows to its maximum and its size at any moment is a matter of timing: RSS after the same
 * load swung by 30 MiB from one run to the next, and the fully grown young generation held
 * ~20 MiB more than needed. Capped at 8 MiB: RSS under load ~20 MiB lower, 1 GiB streamed
 * with 2-5 MiB of RSS growth instead of ~31, and requests/s and p99 within the run-to-run
 * noise of the benchmark machine (README, "Running the sidecar" and "Performance").
 *
 * `--no-allocation-site-pretenuring`: V8 watches how many objects of each allocation site
 * survive a young-generation collection and, above ~85%, allocates that site's objects
 * straight in the old generation from then on. A request's objects (IncomingMessage,
 * ServerResponse, the pipeline's records) die within milliseconds, but while the young
 * generation is still small (a fresh process, the first seconds of load) most of them are
 * in flight at each collection, and V8 would now and then pretenure them for good: the old
 * generation then filled at 15-30 MB/s, a full collection ran every second or so, the
 * median young collection took 1.8 ms instead of 0.5, and the process answered 15-20% fewer
 * requests per second — in a third to a half of the runs, direct and delegate paths alike.
 * Without pretenuring, the same objects die young as they should. (`--min-semi-space-size`
 * prevented it too, but raised idle RSS to 83 MiB.) What it gives up: a big long-lived
 * structure, such as a 100,000-line policy's index, is copied through the young generation
 * first; the policy reload yields between small slices so that requests pass in between
 * (rbac/policy-csv.ts, LINES_PER_SLICE).
 */
export const NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--no-allocation-site-pretenuring',
];
