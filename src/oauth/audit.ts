/**
 * Audit events (O5): application created, secret rotated, consent granted, token revoked, login
 * failed, refresh reuse detected… Details are scrubbed: a key that names a secret, token, code or
 * password never reaches the audit log.
 */
import type { AuditRepo } from '../storage/types.js';

export type AuditType =
  | 'app.created'
  | 'app.updated'
  | 'app.deleted'
  | 'app.activated'
  | 'app.deactivated'
  | 'app.secret_rotated'
  | 'app.registered'
  | 'client_metadata.blocked'
  | 'client_metadata.unblocked'
  | 'app.imported'
  | 'tokens.imported'
  | 'consent.granted'
  | 'consent.denied'
  | 'consent.revoked'
  | 'token.revoked'
  | 'tokens.replaced'
  | 'token.exchanged'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'login.accepted'
  | 'login.rejected'
  | 'session.ended'
  | 'logout.delivery_failed'
  | 'subject.revoked'
  | 'refresh.reuse_detected'
  | 'code.replay_detected'
  | 'user.created'
  | 'user.updated'
  | 'org.created'
  | 'scope.created'
  | 'scope.updated'
  | 'resource_server.created'
  | 'resource_server.updated'
  | 'key.rotated';

export interface AuditInput {
  readonly actorUserId?: string | null;
  readonly clientId?: string | null;
  readonly ip?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

const SENSITIVE = /secret|token|password|code|verifier|assertion|authorization|cookie/i;

export function scrub(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (SENSITIVE.test(k)) continue;
    out[k] = v;
  }
  return out;
}

export interface AuditLog {
  record(type: AuditType, input?: AuditInput): Promise<void>;
}

export function createAuditLog(repo: AuditRepo, now: () => number, onError: (err: unknown) => void): AuditLog {
  return {
    async record(type, input = {}) {
      try {
        await repo.append({
          at: now(),
          type,
          actorUserId: input.actorUserId ?? null,
          clientId: input.clientId ?? null,
          ip: input.ip ?? null,
          details: scrub(input.details ?? {}),
        });
      } catch (err) {
        onError(err);
      }
    },
  };
}
