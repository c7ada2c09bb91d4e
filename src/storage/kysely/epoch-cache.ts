/**
 * The epoch cache (issue #5; see hot-path.ts): clients, scopes, resource servers and the current
 * signing kid kept in memory, trusted only while the database's cache epoch is unchanged, and the
 * Kysely plugin that touches it after every write made through Kysely on a handle.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

const CACHE_MAX_ENTRIES = 10_000;

/** A cache that trusts its entries only while the database's cache epoch is unchanged. */
export class EpochCache {
  private epoch = -1;
  private readonly entries = new Map<string, { readonly value: unknown }>();
  /** Arrival marks: see `markArrival`. */
  private marking = false;
  private arrivals = 0;
  private memo: { readonly epoch: number; readonly at: number } | null = null;

  /**
   * @param readEpoch the current epoch, or null when it cannot be read without waiting for an
   *   open transaction (the cache is then bypassed).
   */
  constructor(private readonly readEpoch: () => number | null | Promise<number | null>) {}

  /**
   * A request arrived. An epoch read taken after a request arrived sees every commit made before
   * it, so it can serve every request that arrived before the read, and no later one. Until the
   * first mark, every use reads the epoch afresh (callers that never mark lose nothing).
   */
  markArrival(): void {
    this.marking = true;
    this.arrivals++;
  }

  /** A write went through this handle: the next use reads the epoch again. */
  touch(): void {
    this.arrivals++;
  }

  private async currentEpoch(): Promise<number | null> {
    const at = this.arrivals;
    if (this.marking && this.memo !== null && this.memo.at === at) return this.memo.epoch;
    const epoch = await this.readEpoch();
    if (epoch !== null && this.marking) this.memo = { epoch, at };
    return epoch;
  }

  /**
   * @param keep which loaded values may be kept (default: any non-null one; `cacheNull` keeps
   *   null too).
   */
  async get<T>(key: string, load: () => Promise<T>, cacheNull = false, keep?: (value: T) => boolean): Promise<T> {
    const epoch = await this.currentEpoch();
    if (epoch === null) return load();
    if (epoch !== this.epoch) {
      this.entries.clear();
      this.epoch = epoch;
    }
    const hit = this.entries.get(key);
    if (hit) return hit.value as T;
    const value = await load();
    // Loaded after the epoch was read, so at least as new as it; kept only if no newer epoch
    // has been seen meanwhile.
    if ((value !== null || cacheNull) && this.epoch === epoch && (keep === undefined || keep(value))) {
      if (this.entries.size >= CACHE_MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value });
    }
    return value;
  }
}

/**
 * Coalesces epoch reads: every request waiting in one event-loop turn shares one read, made
 * after all of them arrived (so it sees every change committed before any of them).
 */
export function coalescedEpoch<T>(read: () => T | Promise<T>): () => Promise<T> {
  let waiters: Array<{ resolve: (value: T) => void; reject: (e: unknown) => void }> = [];
  return () =>
    new Promise<T>((resolve, reject) => {
      waiters.push({ resolve, reject });
      if (waiters.length > 1) return;
      setImmediate(() => {
        const batch = waiters;
        waiters = [];
        new Promise<T>((done) => done(read())).then(
          (value) => batch.forEach((w) => w.resolve(value)),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        );
      });
    });
}

/**
 * Touches the cache after every write made through Kysely on this handle (its transactions
 * included), so a process reading back what it just changed never gets a memoised epoch.
 */
export class WriteTouchPlugin implements KyselyPlugin {
  private readonly writes = new WeakSet<QueryId>();

  constructor(private readonly cache: EpochCache) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const kind = args.node.kind;
    if (kind === 'InsertQueryNode' || kind === 'UpdateQueryNode' || kind === 'DeleteQueryNode' || kind === 'RawNode') {
      this.writes.add(args.queryId);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.writes.has(args.queryId)) this.cache.touch();
    return args.result;
  }
}
