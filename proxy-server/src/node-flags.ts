import v8 from 'v8';

/**
 * The V8 flags the sidecar and the agent run with: the image's ENTRYPOINT passes them (a
 * test keeps the Dockerfile equal to this list), and the tests, `npm run bench` and
 * `npm run soak` start every sidecar and agent with them, so what is measured is what runs.
 *
 * `--max-semi-space-size=8` (MiB): V8 sizes the young generation on the fly, up to 16 MiB
 * per semi-space on 64-bit Node 20-24, and gives the memory back only now and then. A proxy
 * allocates ~20 KB of short-lived objects per request, so under load the young generation
 * grows to its maximum and its size at any moment is a matter of timing: uncapped, RSS after
 * the same load swings by 30 MiB from one run to the next, and the fully grown young
 * generation holds ~20 MiB more than needed. Capped at 8 MiB: RSS under load ~20 MiB lower,
 * 1 GiB streamed with 2-5 MiB of RSS growth instead of ~31, and requests/s and p99 within
 * the run-to-run noise of the benchmark machine (docs/configuration.md, "Node flags";
 * docs/performance.md).
 *
 * `--no-allocation-site-pretenuring`: V8 watches how many objects of each allocation site
 * survive a young-generation collection and, above ~85%, allocates that site's objects
 * straight in the old generation from then on. A request's objects (IncomingMessage,
 * ServerResponse, the pipeline's records) die within milliseconds, but while the young
 * generation is still small (a fresh process, the first seconds of load) most of them are
 * in flight at each collection, and V8 sometimes pretenures them for good: the old
 * generation then fills at 15-30 MB/s, a full collection runs every second or so, the
 * median young collection takes 1.8 ms instead of 0.5, and the process answers 15-20% fewer
 * requests per second — in a third to a half of the runs, direct and delegate paths alike.
 * Without pretenuring, the same objects die young as they should. (`--min-semi-space-size`
 * prevents it too, but raises idle RSS to 83 MiB.) What it gives up: a big long-lived
 * structure, such as a 100,000-line policy's index, is copied through the young generation
 * first; the policy reload yields between small slices so that requests pass in between
 * (rbac/policy-csv.ts, LINES_PER_SLICE).
 */
export const NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--no-allocation-site-pretenuring',
];

/**
 * V8 flags the programs set on themselves as they start (`applyRuntimeV8Flags`, called by
 * `main`), for V8 versions that have them. Unlike NODE_FLAGS they hold however Node is
 * started (the image's ENTRYPOINT, `node proxy-server/bin/...` by hand, a test). Only flags
 * V8 reads where it uses them, not once at start-up, belong here.
 *
 * `--scavenger-max-new-space-capacity-mb=4`: each socket read lands in a new ArrayBuffer
 * whose memory lives outside V8's heap, so a proxied body leaves ~64 KiB of dead buffers
 * per read until the next garbage collection. V8 collects the young generation early once
 * the buffers it holds pass twice this capacity (`Heap::AllocateExternalBackingStore`;
 * Node's 64-bit V8 counts the figure twice): 16 MB at 4. V8 12.4 (Node 22) defaults to 8
 * (32 MB), V8 13.6 (Node 24) to 32 (128 MB) — above the point where V8 starts a full,
 * incremental collection for external memory instead, so with Node 24's default dead
 * buffers pile up to ~73 MB and a fresh sidecar grows by 89-97 MiB of RSS streaming 1 GiB
 * (budget: < 64). With 4 (benchmark machine, fresh sidecar, 1 GiB download): Node 24 grows
 * 37 MiB with at most 18 MB of buffers; Node 22 28 MiB (47-48 with its default); 8 leaves
 * Node 24 at 51-58 MiB and 2 gains little more. Bigger bodies get cheaper, not dearer:
 * 256 KiB responses under load (8 s) cause no full collections on Node 24 (75 with its
 * default; 233 young ones of ~1 ms each) or Node 22 (57 with its default). 1 KiB requests are untouched (3.2 young collections
 * per 1,000 requests at 32, 8 or 2): V8 sizes the young generation from the flags when the
 * process starts (NODE_FLAGS caps it), so setting this one later leaves that size alone and
 * moves the threshold above. Node 20's V8 (11.3) has no such flag (its threshold is fixed
 * at 32 MB) and would print "unrecognized flag", so it is not set there.
 */
export function runtimeV8Flags(v8Version: string): string[] {
  const major = Number.parseInt(v8Version, 10);
  return major >= 12 ? ['--scavenger-max-new-space-capacity-mb=4'] : [];
}

/** Sets runtimeV8Flags on this process's V8. */
export function applyRuntimeV8Flags(): void {
  for (const flag of runtimeV8Flags(process.versions.v8)) v8.setFlagsFromString(flag);
}
