/**
 * Issuing access and refresh tokens (RFC 6749 §5.1) in the client's chosen format (T7) and
 * lifetime policy (A7). Opaque tokens are random and stored hashed; JWT access tokens are
 * RFC 9068 and their `jti` is stored hashed so they can be revoked and introspected.
 */
import type { ClientRow, NewToken, TokenExchangeFacts } from '../../storage/types.js';
import type { OAuthContext } from '../context.js';
import { PREFIX, randomId, randomToken, sha256 } from '../crypto.js';
import { formatScope } from '../scope.js';
import { signAccessToken } from './jwt.js';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope: string;
}

export interface IssueInput {
  readonly client: ClientRow;
  readonly userId: string | null;
  readonly scope: readonly string[];
  readonly audience: string;
  /** Refresh-token family; a new one is created when a refresh token is issued without one. */
  readonly familyId: string | null;
  readonly withRefresh: boolean;
  readonly grantType: string;
  /** Absolute refresh-token expiry: a time, null for never, or absent to apply the client's `refreshTtl`. */
  readonly refreshExpiresAt?: number | null;
  /**
   * Made by a token exchange (RFC 8693) or refreshed from such a token: kept on every row, `act`
   * put in a JWT, and no token outlives `notAfter` (the subject token's expiry).
   */
  readonly exchange?: TokenExchangeFacts;
}

/** The earlier of two expiries, null meaning never. */
function earlier(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Whether this client gets refresh tokens at all (A7: off, or long-lived access tokens). */
export function clientIssuesRefresh(client: ClientRow): boolean {
  return client.refreshEnabled && client.accessTtl !== null && client.grantTypes.includes('refresh_token');
}

/** What a token response was made for, kept beside it (never sent): for features that add to it. */
export interface IssuedFacts {
  readonly userId: string | null;
  readonly familyId: string | null;
  readonly scopes: readonly string[];
}

const factsOf = new WeakMap<TokenResponse, IssuedFacts>();

/** The facts behind a response `prepareTokens` made, or null for one it did not make. */
export function issuedFacts(response: TokenResponse): IssuedFacts | null {
  return factsOf.get(response) ?? null;
}

/** Records what a response replayed from storage was made for (the refresh grace window). */
export function recordFacts(response: TokenResponse, facts: IssuedFacts): void {
  factsOf.set(response, facts);
}

/** Tokens made and signed but not yet stored: the rows to insert and the response to send. */
export interface PreparedTokens {
  readonly rows: readonly NewToken[];
  readonly response: TokenResponse;
}

/** Stores the tokens (one group-committed insert) and returns the response once they are durable. */
export async function issueTokens(ctx: OAuthContext, input: IssueInput): Promise<TokenResponse> {
  const { rows, response } = await prepareTokens(ctx, input);
  await ctx.storage.tokens.insertMany(rows);
  ctx.events.tokenIssued(input.grantType, input.client.clientId);
  return response;
}

/**
 * Makes the tokens without storing them, for a grant that stores them in the same commit as
 * other writes (`storage.grants.redeem`); it reports `ctx.events.tokenIssued` after that commit.
 */
export async function prepareTokens(ctx: OAuthContext, input: IssueInput): Promise<PreparedTokens> {
  const now = ctx.now();
  const { client } = input;
  const scope = formatScope(input.scope);
  const exchange = input.exchange;
  const notAfter = exchange?.notAfter ?? null;
  const accessExpiresAt = earlier(client.accessTtl === null ? null : now + client.accessTtl * 1000, notAfter);
  const familyId = input.withRefresh ? (input.familyId ?? randomId()) : input.familyId;
  const rows: NewToken[] = [];

  let refreshToken: string | undefined;
  let refreshHash: string | null = null;
  if (input.withRefresh) {
    refreshToken = randomToken(PREFIX.refreshToken);
    refreshHash = sha256(refreshToken);
    const refreshExpiresAt = earlier(
      input.refreshExpiresAt !== undefined
        ? input.refreshExpiresAt
        : client.refreshTtl === null
          ? null
          : now + client.refreshTtl * 1000,
      notAfter,
    );
    rows.push({
      tokenHash: refreshHash,
      kind: 'refresh',
      format: 'opaque',
      clientId: client.clientId,
      userId: input.userId,
      scope,
      audience: input.audience,
      familyId,
      parentHash: null,
      expiresAt: refreshExpiresAt,
      createdAt: now,
      ...(exchange ? { exchange } : {}),
    });
  }

  let accessToken: string;
  let accessHash: string;
  if (client.tokenFormat === 'jwt') {
    const jti = randomId();
    accessToken = await signAccessToken(ctx.keys, {
      iss: ctx.config.issuer,
      sub: input.userId ?? exchange?.subject ?? client.clientId,
      aud: input.audience,
      client_id: client.clientId,
      scope,
      jti,
      iat: Math.floor(now / 1000),
      exp: accessExpiresAt === null ? null : Math.floor(accessExpiresAt / 1000),
      ...(exchange?.act ? { act: exchange.act } : {}),
    });
    accessHash = sha256(jti);
  } else {
    accessToken = randomToken(PREFIX.accessToken);
    accessHash = sha256(accessToken);
  }
  rows.push({
    tokenHash: accessHash,
    kind: 'access',
    format: client.tokenFormat,
    clientId: client.clientId,
    userId: input.userId,
    scope,
    audience: input.audience,
    familyId,
    parentHash: refreshHash,
    expiresAt: accessExpiresAt,
    createdAt: now,
    ...(exchange ? { exchange } : {}),
  });

  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    ...(accessExpiresAt === null ? {} : { expires_in: accessExpiresAt === notAfter ? Math.max(0, Math.floor((accessExpiresAt - now) / 1000)) : (client.accessTtl as number) }),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    scope,
  };
  factsOf.set(response, { userId: input.userId, familyId, scopes: input.scope });
  return { rows, response };
}
