/**
 * The administrators' block-list of Client ID Metadata Documents (docs/client-id-metadata.md),
 * shared by the admin API and the CLI. A block is a host (`agents.example`), `*.domain` for every
 * subdomain of a domain, or one exact client_id URL. Blocking also deactivates the applications
 * already known from that host (their tokens stop working at once, A3); lifting a block lets new
 * documents from it be fetched again, while those applications stay deactivated until an
 * administrator activates them.
 */
import type { OAuthContext } from '../oauth/context.js';
import type { ClientMetadataBlock } from '../storage/types.js';
import { invalidRequest } from '../oauth/errors.js';
import { normaliseBlockPattern } from '../features/client-id-metadata/policy.js';
import { setAppActive } from './apps.js';

/** At most this many applications are deactivated per block (the rest on the next block of the same pattern). */
const DEACTIVATE_BATCH = 1000;

type Opts = { readonly actorUserId?: string | null; readonly ip?: string | null };

export function blockPattern(raw: string): string {
  try {
    return normaliseBlockPattern(raw);
  } catch (err) {
    throw invalidRequest(`pattern: ${(err as Error).message}`);
  }
}

/** Adds a block (idempotent) and deactivates the applications it covers; returns how many. */
export async function blockMetadataClients(
  ctx: OAuthContext,
  raw: string,
  opts: Opts & { readonly reason?: string | null } = {},
): Promise<{ readonly block: ClientMetadataBlock; readonly created: boolean; readonly deactivated: number }> {
  const pattern = blockPattern(raw);
  const reason = opts.reason?.trim().slice(0, 500) || null;
  const block: ClientMetadataBlock = { pattern, reason, createdBy: opts.actorUserId ?? null, createdAt: ctx.now() };
  const created = await ctx.storage.clientMetadata.block(block);
  let ids: string[];
  if (pattern.startsWith('http')) {
    const c = await ctx.storage.clients.byId(pattern);
    ids = c !== null && c.metadataDocument !== null ? [pattern] : [];
  } else if (pattern.startsWith('*.')) {
    ids = await ctx.storage.clientMetadata.clientIdsOnHost(pattern.slice(2), true, DEACTIVATE_BATCH);
  } else {
    ids = await ctx.storage.clientMetadata.clientIdsOnHost(pattern, false, DEACTIVATE_BATCH);
  }
  let deactivated = 0;
  for (const id of ids) {
    const c = await ctx.storage.clients.byId(id);
    if (c === null || !c.active) continue;
    if (await setAppActive(ctx, id, false, opts)) deactivated++;
  }
  if (created || deactivated > 0) await ctx.audit.record('client_metadata.blocked', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { pattern, reason, deactivated } });
  return { block: created ? block : ((await ctx.storage.clientMetadata.getBlock(pattern)) ?? block), created, deactivated };
}

export async function unblockMetadataClients(ctx: OAuthContext, raw: string, opts: Opts = {}): Promise<boolean> {
  const pattern = blockPattern(raw);
  const removed = await ctx.storage.clientMetadata.unblock(pattern);
  if (removed) await ctx.audit.record('client_metadata.unblocked', { actorUserId: opts.actorUserId ?? null, ip: opts.ip ?? null, details: { pattern } });
  return removed;
}


export function blockView(b: ClientMetadataBlock): Record<string, unknown> {
  return { pattern: b.pattern, reason: b.reason, created_by: b.createdBy, created_at: new Date(b.createdAt).toISOString() };
}
