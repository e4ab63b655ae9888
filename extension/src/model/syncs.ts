/**
 * The application's syncs, from what Argo CD hands the extension: `status.history[]`
 * (models.RevisionHistory: one entry per completed sync, `deployStartedAt`, `deployedAt`,
 * `revision` or `revisions` for several sources) and the running operation
 * (`status.operationState` with phase `Running`). The application object is Argo CD's to
 * change, so every field is read defensively.
 */

export interface Sync {
  /** When the sync finished (`deployedAt`), unix seconds; for a running one, when it began. */
  at: number;
  /** When it began (`deployStartedAt` / `startedAt`), unix seconds, when known. */
  startedAt?: number;
  /** The revision synced to, shortened for display (a git SHA to 7 characters). */
  revision: string;
  /** The operation is still running. */
  running: boolean;
}

/** A window's onset after a sync finished, within this many seconds, is "after the sync". */
export const SYNC_PROXIMITY_SECONDS = 30 * 60;

function seconds(time: unknown): number | undefined {
  if (typeof time !== 'string') return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** A revision for display: a git SHA shortened as Argo CD shows it; others as they are. */
export function shortRevision(revision: unknown): string {
  if (typeof revision !== 'string' || revision === '') return 'an unknown revision';
  if (/^[0-9a-f]{40}$/i.test(revision)) return revision.slice(0, 7);
  return revision.length > 24 ? `${revision.slice(0, 23)}…` : revision;
}

function revisionOf(entry: { revision?: unknown; revisions?: unknown }): string {
  if (typeof entry.revision === 'string' && entry.revision !== '') {
    return shortRevision(entry.revision);
  }
  const list = Array.isArray(entry.revisions)
    ? entry.revisions.filter((r): r is string => typeof r === 'string' && r !== '')
    : [];
  if (list.length === 0) return shortRevision(undefined);
  return list.length === 1
    ? shortRevision(list[0])
    : `${shortRevision(list[0])} (+${list.length - 1} sources)`;
}

interface HistoryEntry {
  revision?: unknown;
  revisions?: unknown;
  deployedAt?: unknown;
  deployStartedAt?: unknown;
}

interface OperationState {
  phase?: unknown;
  startedAt?: unknown;
  operation?: { sync?: { revision?: unknown; revisions?: unknown } };
}

/** The application's syncs, oldest first. */
export function syncsOf(application: { status?: unknown }): Sync[] {
  const status = (application.status ?? {}) as {
    history?: unknown;
    operationState?: unknown;
  };
  const syncs: Sync[] = [];
  if (Array.isArray(status.history)) {
    for (const entry of status.history as HistoryEntry[]) {
      if (!entry || typeof entry !== 'object') continue;
      const at = seconds(entry.deployedAt);
      if (at === undefined) continue;
      syncs.push({
        at,
        startedAt: seconds(entry.deployStartedAt),
        revision: revisionOf(entry),
        running: false,
      });
    }
  }
  const operation = status.operationState as OperationState | undefined;
  if (operation && operation.phase === 'Running') {
    const at = seconds(operation.startedAt);
    if (at !== undefined) {
      syncs.push({
        at,
        startedAt: at,
        revision: revisionOf(operation.operation?.sync ?? {}),
        running: true,
      });
    }
  }
  return syncs.sort((a, b) => a.at - b.at);
}

export interface SyncRelation {
  sync: Sync;
  /** `during`: the window began while the sync ran; `after`: within the proximity after it. */
  kind: 'during' | 'after';
  /** Whole minutes from the sync's end (or a running sync's start) to the window's onset. */
  minutes: number;
}

/**
 * The sync a window began during or shortly after: the latest sync that finished at most
 * SYNC_PROXIMITY_SECONDS before `onset`, or one running at `onset`.
 */
export function syncBefore(onset: number, syncs: readonly Sync[]): SyncRelation | undefined {
  let found: SyncRelation | undefined;
  for (const sync of syncs) {
    const began = sync.startedAt ?? sync.at;
    if (sync.running) {
      if (onset >= began) {
        found = { sync, kind: 'after', minutes: Math.floor((onset - began) / 60) };
      }
    } else if (onset >= began && onset < sync.at) {
      found = { sync, kind: 'during', minutes: 0 };
    } else if (onset >= sync.at && onset - sync.at <= SYNC_PROXIMITY_SECONDS) {
      found = { sync, kind: 'after', minutes: Math.floor((onset - sync.at) / 60) };
    }
  }
  return found;
}
