/**
 * undici's `Pool`, without the rest of undici.
 *
 * `require('undici')` also loads fetch, WebSocket, EventSource, the cache stores and the
 * mocks, none of which the sidecar or the agent uses: 9-15 MiB of resident memory on Node
 * 20-24, about a seventh of an idle sidecar's. The module required here is the one undici's
 * index exports `Pool` from (undici has no `exports` map, so the path is reachable); a unit
 * test checks it is the very same class, so an undici release that moves it fails the tests
 * rather than a deployment. Types still come from undici's declarations.
 */
import type { Pool as UndiciPool } from 'undici';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Pool = require('undici/lib/dispatcher/pool') as typeof UndiciPool;
export type Pool = UndiciPool;
