/**
 * Storage contract: one suite, run against every backend `createStorage` supports (SQLite in a
 * temp file; PostgreSQL in a throwaway schema when TOLLGATE_TEST_PG_URL is set). Each test gets
 * a fresh, migrated database, so counts and orderings are exact.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStorage } from '../../src/storage/kysely/index.js';
import { TOKEN_COLUMNS_SET_LATER, TOKEN_WRITE_COLUMNS } from '../../src/storage/kysely/token-columns.js';
import { CONSENT_USE_GRANULARITY_MS, DEFAULT_OIDC_SETTINGS, exchangeFamilyOf } from '../../src/storage/types.js';
import type {
  AuthorizationCodeRow,
  NewClient,
  NewToken,
  SigningKeyRow,
  Storage,
  UserRow,
} from '../../src/storage/types.js';
import { describePg, freshPgSchema } from '../helpers/pg.js';

interface Harness {
  readonly storage: Storage;
  /** Another handle on the same database, as a second process would open it (closed by dispose). */
  second(): Promise<Storage>;
  /** The tokens table's columns as the database has them (after migrate). */
  tokenTableColumns(): Promise<string[]>;
  dispose(): Promise<void>;
}
type Factory = () => Promise<Harness>;

/** 2024-01-15T12:00:00Z: a fixed "now" keeps day buckets and orderings deterministic. */
const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

function aUser(id: string, overrides: Partial<UserRow> = {}): UserRow {
  return {
    id,
    email: `${id}@example.com`,
    passwordHash: `argon2-${id}`,
    isAdmin: false,
    disabled: false,
    failedLogins: 0,
    lockedUntil: null,
    createdAt: T0,
    external: false,
    profile: null,
    ...overrides,
  };
}

function aClient(clientId: string, overrides: Partial<NewClient> = {}): NewClient {
  return {
    clientId,
    name: `App ${clientId}`,
    description: null,
    website: null,
    logoUri: null,
    redirectUris: ['https://app.example/cb'],
    scopes: ['read'],
    grantTypes: ['authorization_code', 'refresh_token'],
    clientType: 'confidential',
    orgId: null,
    ownerId: null,
    actsAsUserId: null,
    internal: false,
    active: true,
    secretHash: `secret-${clientId}`,
    tokenFormat: 'opaque',
    accessTtl: 3600,
    refreshEnabled: true,
    refreshTtl: null,
    refreshGraceSeconds: 0,
    registrationTokenHash: null,
    dynamic: false,
    ...overrides,
  };
}

function aCode(codeHash: string, overrides: Partial<AuthorizationCodeRow> = {}): AuthorizationCodeRow {
  return {
    codeHash,
    clientId: 'c1',
    userId: 'u1',
    redirectUri: 'https://app.example/cb',
    scope: 'read',
    resource: null,
    codeChallenge: null,
    codeChallengeMethod: null,
    familyId: `fam-${codeHash}`,
    expiresAt: T0 + 60_000,
    consumedAt: null,
    createdAt: T0,
    replaceExisting: false,
    ...overrides,
  };
}

function aToken(tokenHash: string, overrides: Partial<NewToken> = {}): NewToken {
  return {
    tokenHash,
    kind: 'access',
    format: 'opaque',
    clientId: 'c1',
    userId: 'u1',
    scope: 'read',
    audience: null,
    familyId: null,
    parentHash: null,
    expiresAt: T0 + 3_600_000,
    createdAt: T0,
    ...overrides,
  };
}

function aKey(kid: string, overrides: Partial<SigningKeyRow> = {}): SigningKeyRow {
  return {
    kid,
    alg: 'ES256',
    privateJwk: `{"kid":"${kid}","d":"x"}`,
    publicJwk: `{"kid":"${kid}"}`,
    createdAt: T0,
    retiredAt: null,
    expiresAt: null,
    ...overrides,
  };
}

function storageContract(expectedDialect: Storage['dialect'], factory: Factory): void {
  let harness: Harness;
  let storage: Storage;
  let appliedOnSetup: string[];

  beforeEach(async () => {
    harness = await factory();
    storage = harness.storage;
    appliedOnSetup = await storage.migrate();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  /** A user u1 and a client c1 that most token/code/consent tests hang off. */
  async function seedUserAndClient(): Promise<void> {
    await storage.users.create(aUser('u1'));
    await storage.clients.create(aClient('c1'), T0);
  }

  /** A bare redemption (no consent, no new tokens): the consume alone. */
  function consume(kind: 'code' | 'refresh', hash: string, now: number, on: Storage = storage, graceResponse: string | null = null): Promise<boolean> {
    return on.grants.redeem({ consume: { kind, hash }, now, consent: null, tokens: [], graceResponse });
  }

  describe('lifecycle', () => {
    it('reports its dialect', () => {
      expect(storage.dialect).toBe(expectedDialect);
    });

    it('migrate() applies every migration once and is idempotent', async () => {
      expect(appliedOnSetup).toEqual(['0001_initial', '0002_refresh_grace', '0003_cache_epoch', '0004_user_epoch', '0005_partial_token_indexes', '0006_token_epoch', '0007_host_login', '0008_hardening', '0009_oidc', '0010_post_logout', '0011_oidc_clients', '0012_scope_locales', '0013_device_codes', '0014_token_exchange', '0016_client_metadata', '0017_private_key_jwt']);
      expect(await storage.migrate()).toEqual([]);
      expect(await storage.migrate()).toEqual([]);
    });

    it('ping() resolves', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });

    it('close() can be called twice', async () => {
      await storage.close();
      await expect(storage.close()).resolves.toBeUndefined();
    });

    it('enforces foreign keys (token for an unknown client is rejected)', async () => {
      await expect(storage.tokens.insert(aToken('t1', { clientId: 'nope' }))).rejects.toThrow();
      expect(await storage.tokens.byHash('t1')).toBeNull();
    });
  });

  describe('organizations', () => {
    it('creates, finds by id and name, lists by name', async () => {
      await storage.organizations.create({ id: 'o2', name: 'Zeta', createdAt: T0 });
      await storage.organizations.create({ id: 'o1', name: 'Acme', createdAt: T0 + 1 });
      expect(await storage.organizations.byId('o2')).toEqual({ id: 'o2', name: 'Zeta', createdAt: T0 });
      expect(await storage.organizations.byName('Acme')).toEqual({ id: 'o1', name: 'Acme', createdAt: T0 + 1 });
      expect(await storage.organizations.byId('missing')).toBeNull();
      expect(await storage.organizations.byName('missing')).toBeNull();
      expect((await storage.organizations.page({ limit: 10 })).items.map((o) => o.id)).toEqual(['o1', 'o2']);
    });

    it('pages by name, searches the start of the name case-insensitively, counts, fetches by ids (issue #15 §12)', async () => {
      for (const [id, name] of [['o1', 'Acme'], ['o2', 'acme labs'], ['o3', 'Beta'], ['o4', 'ACME_100%'], ['o5', 'Zeta Acme']] as const) {
        await storage.organizations.create({ id, name, createdAt: T0 });
      }
      expect(await storage.organizations.count()).toBe(5);
      const first = await storage.organizations.page({ limit: 2 });
      expect(first.items.map((o) => o.name)).toEqual(['ACME_100%', 'Acme']);
      const second = await storage.organizations.page({ limit: 2, after: first.next });
      expect(second.items.map((o) => o.name)).toEqual(['Beta', 'Zeta Acme']);
      const third = await storage.organizations.page({ limit: 2, after: second.next });
      expect(third).toEqual({ items: [{ id: 'o2', name: 'acme labs', createdAt: T0 }], next: null });
      const names = async (search: string): Promise<string[]> => (await storage.organizations.page({ search, limit: 10 })).items.map((o) => o.name);
      expect((await names('acme')).sort()).toEqual(['ACME_100%', 'Acme', 'acme labs']);
      expect(await names('ACME_')).toEqual(['ACME_100%']);
      expect(await names('acm%')).toEqual([]);
      expect(await names('zeta a')).toEqual(['Zeta Acme']);
      expect(await names('labs')).toEqual([]);
      expect((await storage.organizations.byIds(['o3', 'o1', 'nope'])).map((o) => o.id).sort()).toEqual(['o1', 'o3']);
      expect(await storage.organizations.byIds([])).toEqual([]);
    });

    it('rejects a duplicate name', async () => {
      await storage.organizations.create({ id: 'o1', name: 'Acme', createdAt: T0 });
      await expect(storage.organizations.create({ id: 'o2', name: 'Acme', createdAt: T0 })).rejects.toThrow();
    });
  });

  describe('users', () => {
    it('round-trips every field', async () => {
      const user = aUser('u1', { isAdmin: true, disabled: true, failedLogins: 2, lockedUntil: T0 + 5 });
      await storage.users.create(user);
      expect(await storage.users.byId('u1')).toEqual(user);
      expect(await storage.users.byId('missing')).toBeNull();
    });

    it('issue #11: upsertExternal keeps a row per host subject, never a password, never over a built-in user', async () => {
      expect(await storage.users.upsertExternal({ id: 'host|42', profile: { email: 'Ann@Platform.example', name: 'Ann' }, isAdmin: true }, T0)).toBe(true);
      expect(await storage.users.byId('host|42')).toEqual({
        id: 'host|42', email: 'Ann@Platform.example', passwordHash: '', isAdmin: true, disabled: false, failedLogins: 0, lockedUntil: null, createdAt: T0,
        external: true, profile: { email: 'Ann@Platform.example', name: 'Ann' },
      });
      // Not a sign-in identity: the password form cannot find it by that email.
      expect(await storage.users.byEmail('ann@platform.example')).toBeNull();
      // Another subject may carry the same email (the host's business), or none.
      expect(await storage.users.upsertExternal({ id: 'host|43', profile: { email: 'Ann@Platform.example' } }, T0)).toBe(true);
      expect(await storage.users.upsertExternal({ id: 'host|44', profile: {} }, T0)).toBe(true);
      expect((await storage.users.byId('host|44'))?.email).toBeNull();
      // Refreshed on the next sign-in; unchanged flags stay.
      expect(await storage.users.upsertExternal({ id: 'host|42', profile: { email: 'ann@new.example' } }, T0 + 5)).toBe(true);
      expect(await storage.users.byId('host|42')).toMatchObject({ email: 'ann@new.example', isAdmin: true, createdAt: T0, profile: { email: 'ann@new.example' } });
      expect(await storage.users.upsertExternal({ id: 'host|42', profile: { email: 'ann@new.example' }, disabled: true }, T0 + 6)).toBe(true);
      expect((await storage.users.account('host|42'))?.disabled).toBe(true);
      // A built-in user's id is never taken over.
      await storage.users.create(aUser('u1'));
      expect(await storage.users.upsertExternal({ id: 'u1', profile: { email: 'x@y.z' }, isAdmin: true }, T0)).toBe(false);
      expect(await storage.users.byId('u1')).toMatchObject({ email: 'u1@example.com', isAdmin: false, external: false, profile: null });
    });

    it('stores emails lower-cased and finds them case-insensitively', async () => {
      await storage.users.create(aUser('u1', { email: 'Alice.Smith@Example.COM' }));
      expect((await storage.users.byId('u1'))?.email).toBe('alice.smith@example.com');
      expect((await storage.users.byEmail('alice.smith@example.com'))?.id).toBe('u1');
      expect((await storage.users.byEmail('ALICE.SMITH@EXAMPLE.COM'))?.id).toBe('u1');
      expect(await storage.users.byEmail('bob@example.com')).toBeNull();
      await expect(storage.users.create(aUser('u2', { email: 'alice.smith@EXAMPLE.com' }))).rejects.toThrow();
    });

    it('pages by creation time, then id, with an opaque cursor (issue #15 §12)', async () => {
      await storage.users.create(aUser('u2', { createdAt: T0 + 1 }));
      await storage.users.create(aUser('u1', { createdAt: T0 + 2 }));
      await storage.users.create(aUser('u0', { createdAt: T0 + 1 }));
      await storage.users.create(aUser('u3', { createdAt: T0 + 2 }));
      await storage.users.create(aUser('u4', { createdAt: T0 }));
      const first = await storage.users.page({ limit: 2 });
      expect(first.items.map((u) => u.id)).toEqual(['u4', 'u0']);
      expect(first.next).toEqual(expect.any(String));
      const second = await storage.users.page({ limit: 2, after: first.next });
      expect(second.items.map((u) => u.id)).toEqual(['u2', 'u1']);
      const third = await storage.users.page({ limit: 2, after: second.next });
      expect(third).toEqual({ items: [expect.objectContaining({ id: 'u3' })], next: null });
      expect(await storage.users.page({ limit: 5 })).toMatchObject({ next: null });
      expect((await storage.users.page({ limit: 10 })).items).toHaveLength(5);
      // A malformed cursor starts from the beginning rather than failing.
      expect((await storage.users.page({ limit: 1, after: 'not a cursor' })).items.map((u) => u.id)).toEqual(['u4']);
      // The limit is clamped: at least 1, at most 500.
      expect((await storage.users.page({ limit: 0 })).items).toHaveLength(1);
    });

    it('searches by the start of the email (case-insensitive, wildcards literal) or the exact id', async () => {
      await storage.users.create(aUser('u1', { email: 'alice@example.com', createdAt: T0 + 1 }));
      await storage.users.create(aUser('u2', { email: 'alison@example.org', createdAt: T0 + 2 }));
      await storage.users.create(aUser('u3', { email: 'bob@alice.example', createdAt: T0 + 3 }));
      await storage.users.create(aUser('u4', { email: 'al_x%@example.com', createdAt: T0 + 4 }));
      await storage.users.create(aUser('alice', { email: 'zed@example.com', createdAt: T0 + 5 }));
      const ids = async (search: string, after?: string | null): Promise<string[]> =>
        (await storage.users.page({ search, limit: 10, after: after ?? null })).items.map((u) => u.id);
      expect(await ids('ali')).toEqual(['u1', 'u2']);
      expect(await ids('ALI')).toEqual(['u1', 'u2']);
      expect(await ids('  alice ')).toEqual(['u1', 'alice']);
      expect(await ids('al_')).toEqual(['u4']);
      expect(await ids('al%')).toEqual([]);
      expect(await ids('a_')).toEqual([]);
      expect(await ids('bob@alice.example')).toEqual(['u3']);
      expect(await ids('example')).toEqual([]);
      expect(await ids('')).toEqual(['u1', 'u2', 'u3', 'u4', 'alice']);
      const first = await storage.users.page({ search: 'al', limit: 2 });
      expect(first.items.map((u) => u.id)).toEqual(['u1', 'u2']);
      expect(await ids('al', first.next)).toEqual(['u4']);
    });

    it('counts (all, disabled), finds any administrator, fetches by ids', async () => {
      expect(await storage.users.count()).toBe(0);
      expect(await storage.users.anyAdmin()).toBe(false);
      await storage.users.create(aUser('u1'));
      await storage.users.create(aUser('u2', { disabled: true }));
      await storage.users.create(aUser('u3', { disabled: true }));
      expect(await storage.users.count()).toBe(3);
      expect(await storage.users.count({ disabled: true })).toBe(2);
      expect(await storage.users.count({ disabled: false })).toBe(1);
      expect(await storage.users.anyAdmin()).toBe(false);
      await storage.users.update('u3', { isAdmin: true });
      expect(await storage.users.anyAdmin()).toBe(true);
      expect((await storage.users.byIds(['u3', 'missing', 'u1', 'u3'])).map((u) => u.id).sort()).toEqual(['u1', 'u3']);
      expect(await storage.users.byIds([])).toEqual([]);
    });

    it('lists memberships of several users and an organization\'s members with a total', async () => {
      await storage.organizations.create({ id: 'o1', name: 'Acme', createdAt: T0 });
      await storage.organizations.create({ id: 'o2', name: 'Zeta', createdAt: T0 });
      await storage.users.create(aUser('u1'));
      await storage.users.create(aUser('u2'));
      await storage.users.create(aUser('u3'));
      await storage.users.upsertExternal({ id: 'ext-1', profile: { email: 'host.person@example.com', name: 'Host Person' } }, T0);
      await storage.users.addMembership({ userId: 'u1', orgId: 'o1', role: 'admin' });
      await storage.users.addMembership({ userId: 'u2', orgId: 'o1', role: 'member' });
      await storage.users.addMembership({ userId: 'u1', orgId: 'o2', role: 'member' });
      await storage.users.addMembership({ userId: 'ext-1', orgId: 'o1', role: 'member' });
      expect(await storage.users.membershipsOf(['u1', 'u3'])).toEqual([
        { userId: 'u1', orgId: 'o1', role: 'admin' },
        { userId: 'u1', orgId: 'o2', role: 'member' },
      ]);
      expect(await storage.users.membershipsOf([])).toEqual([]);
      const members = await storage.users.membersOf('o1', 2);
      expect(members.total).toBe(3);
      expect(members.items).toEqual([
        { userId: 'ext-1', orgId: 'o1', role: 'member', email: 'host.person@example.com' },
        { userId: 'u1', orgId: 'o1', role: 'admin', email: 'u1@example.com' },
      ]);
      expect(await storage.users.membersOf('o2', 10)).toEqual({ items: [{ userId: 'u1', orgId: 'o2', role: 'member', email: 'u1@example.com' }], total: 1 });
      expect(await storage.users.membersOf('missing', 10)).toEqual({ items: [], total: 0 });
    });

    it('updates password hash and flags; false for an unknown user', async () => {
      await storage.users.create(aUser('u1'));
      expect(await storage.users.update('u1', { passwordHash: 'new', isAdmin: true })).toBe(true);
      expect(await storage.users.byId('u1')).toMatchObject({ passwordHash: 'new', isAdmin: true, disabled: false });
      expect(await storage.users.update('u1', { disabled: true })).toBe(true);
      expect(await storage.users.byId('u1')).toMatchObject({ passwordHash: 'new', isAdmin: true, disabled: true });
      expect(await storage.users.update('u1', {})).toBe(true);
      // issue #12: the profile claims are replaced whole, or removed with null
      expect(await storage.users.update('u1', { profile: { name: 'Ada', email_verified: true } })).toBe(true);
      expect((await storage.users.byId('u1'))?.profile).toEqual({ name: 'Ada', email_verified: true });
      expect(await storage.users.update('u1', { profile: null })).toBe(true);
      expect((await storage.users.byId('u1'))?.profile).toBeNull();
      expect(await storage.users.update('missing', { isAdmin: true })).toBe(false);
      expect(await storage.users.update('missing', {})).toBe(false);
    });

    it('counts login failures atomically, locks and resets', async () => {
      await storage.users.create(aUser('u1'));
      expect(await storage.users.recordLoginFailure('u1', T0)).toBe(1);
      expect(await storage.users.recordLoginFailure('u1', T0)).toBe(2);
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, (_, i) => storage.users.recordLoginFailure('u1', T0 + i)),
      );
      expect([...concurrent].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect((await storage.users.byId('u1'))?.failedLogins).toBe(12);
      expect(await storage.users.recordLoginFailure('missing', T0)).toBe(0);

      await storage.users.setLockedUntil('u1', T0 + 900_000);
      expect((await storage.users.byId('u1'))?.lockedUntil).toBe(T0 + 900_000);
      await storage.users.resetLoginFailures('u1');
      expect(await storage.users.byId('u1')).toMatchObject({ failedLogins: 0, lockedUntil: T0 + 900_000 });
      await storage.users.setLockedUntil('u1', null);
      expect((await storage.users.byId('u1'))?.lockedUntil).toBeNull();
    });

    it('adds memberships (re-adding changes the role) and lists them', async () => {
      await storage.users.create(aUser('u1'));
      await storage.organizations.create({ id: 'o2', name: 'Two', createdAt: T0 });
      await storage.organizations.create({ id: 'o1', name: 'One', createdAt: T0 });
      await storage.users.addMembership({ userId: 'u1', orgId: 'o2', role: 'member' });
      await storage.users.addMembership({ userId: 'u1', orgId: 'o1', role: 'member' });
      await storage.users.addMembership({ userId: 'u1', orgId: 'o1', role: 'admin' });
      expect(await storage.users.memberships('u1')).toEqual([
        { userId: 'u1', orgId: 'o1', role: 'admin' },
        { userId: 'u1', orgId: 'o2', role: 'member' },
      ]);
      expect(await storage.users.memberships('nobody')).toEqual([]);
      await expect(storage.users.addMembership({ userId: 'u1', orgId: 'missing', role: 'member' })).rejects.toThrow();
    });
  });

  describe('clients', () => {
    it('creates with scopesVersion 1 and round-trips every field', async () => {
      const input = aClient('c1', {
        description: 'desc',
        website: 'https://app.example',
        logoUri: 'https://app.example/logo.png',
        redirectUris: ['https://app.example/cb', 'http://127.0.0.1/cb'],
        scopes: ['read', 'write'],
        grantTypes: ['client_credentials'],
        clientType: 'public',
        orgId: 'o1',
        ownerId: 'u1',
        actsAsUserId: 'u9',
        internal: true,
        active: false,
        secretHash: null,
        tokenFormat: 'jwt',
        accessTtl: null,
        refreshEnabled: false,
        refreshTtl: 86_400,
        registrationTokenHash: 'rat-hash',
        dynamic: true,
      });
      const created = await storage.clients.create(input, T0);
      const expected = { ...input, scopesVersion: 1, createdAt: T0, updatedAt: T0, usedAt: null, adminDeactivated: false, previousSecretHash: null, previousSecretExpiresAt: null, idTokenSignedResponseAlg: null, postLogoutRedirectUris: [], oidc: DEFAULT_OIDC_SETTINGS, tokenExchange: null, metadataDocument: null, privateKeyJwt: null };
      expect(created).toEqual(expected);
      expect(await storage.clients.byId('c1')).toEqual(expected);
      expect(await storage.clients.byId('missing')).toBeNull();
    });

    it('token exchange (0014): the policy round-trips on create and update, and null clears it', async () => {
      const policy = { audiences: ['https://api.example', 'https://other.example'], impersonation: true, refreshTokens: false };
      const created = await storage.clients.create(aClient('tx', { tokenExchange: policy }), T0);
      expect(created.tokenExchange).toEqual(policy);
      expect((await storage.clients.byId('tx'))?.tokenExchange).toEqual(policy);
      const next = { audiences: [], impersonation: false, refreshTokens: true };
      expect((await storage.clients.update('tx', { tokenExchange: next }, T0 + 1))?.tokenExchange).toEqual(next);
      expect((await storage.clients.byId('tx'))?.tokenExchange).toEqual(next);
      expect((await storage.clients.update('tx', { name: 'Renamed' }, T0 + 2))?.tokenExchange).toEqual(next);
      expect((await storage.clients.update('tx', { tokenExchange: null }, T0 + 3))?.tokenExchange).toBeNull();
      expect((await storage.clients.byId('tx'))?.tokenExchange).toBeNull();
    });

    it('private_key_jwt (0017): the key settings round-trip; a jti is used once until it expires, once across parallel uses', async () => {
      const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] };
      const created = await storage.clients.create(aClient('pkj', { clientType: 'confidential', privateKeyJwt: { jwks, jwksUri: null } }), T0);
      expect(created.privateKeyJwt).toEqual({ jwks, jwksUri: null });
      expect((await storage.clients.byId('pkj'))?.privateKeyJwt).toEqual({ jwks, jwksUri: null });
      const byUri = { jwks: null, jwksUri: 'https://app.example/jwks.json' };
      expect((await storage.clients.update('pkj', { privateKeyJwt: byUri }, T0 + 1))?.privateKeyJwt).toEqual(byUri);
      expect((await storage.clients.update('pkj', { name: 'Renamed' }, T0 + 2))?.privateKeyJwt).toEqual(byUri);
      expect((await storage.clients.update('pkj', { privateKeyJwt: null }, T0 + 3))?.privateKeyJwt).toBeNull();

      expect(await storage.clientAssertions.use('pkj', 'j1', T0 + 60_000, T0)).toBe(true);
      expect(await storage.clientAssertions.use('pkj', 'j1', T0 + 60_000, T0 + 1)).toBe(false);
      // Another client may use the same jti; ids that would concatenate alike stay apart.
      expect(await storage.clientAssertions.use('other', 'j1', T0 + 60_000, T0)).toBe(true);
      expect(await storage.clientAssertions.use('pk', 'jj1', T0 + 60_000, T0)).toBe(true);
      // After the first assertion expired, the pair may be used again.
      expect(await storage.clientAssertions.use('pkj', 'j1', T0 + 200_000, T0 + 60_000)).toBe(true);
      expect(await storage.clientAssertions.use('pkj', 'j1', T0 + 200_000, T0 + 60_001)).toBe(false);
      const parallel = await Promise.all(Array.from({ length: 8 }, () => storage.clientAssertions.use('pkj', 'race', T0 + 60_000, T0)));
      expect(parallel.filter(Boolean)).toHaveLength(1);
      expect(await storage.clientAssertions.purgeExpired(T0 + 60_001)).toBe(3);
      expect(await storage.clientAssertions.purgeExpired(T0 + 60_001)).toBe(0);
      expect(await storage.clientAssertions.use('other', 'j1', T0 + 90_000, T0 + 70_000)).toBe(true);
    });

    it('client metadata documents (0016): the state round-trips; logos, the block-list and the host index', async () => {
      const id = 'https://agents.example/client.json';
      const state = { fetchedAt: T0, expiresAt: T0 + 60_000, etag: '"v1"', logoSource: 'https://agents.example/logo.png' };
      const created = await storage.clients.create(aClient(id, { metadataDocument: state }), T0);
      expect(created.metadataDocument).toEqual(state);
      expect((await storage.clients.byId(id))?.metadataDocument).toEqual(state);
      const next = { ...state, expiresAt: T0 + 120_000, etag: null };
      expect((await storage.clients.update(id, { metadataDocument: next }, T0 + 1))?.metadataDocument).toEqual(next);
      await storage.clients.create(aClient('https://a.agents.example/c.json', { metadataDocument: state }), T0);
      await storage.clients.create(aClient('https://agents.example.evil/c.json', { metadataDocument: state }), T0);
      await storage.clients.create(aClient('plain'), T0);
      expect(await storage.clientMetadata.clientIdsOnHost('agents.example', false, 10)).toEqual([id]);
      expect(await storage.clientMetadata.clientIdsOnHost('agents.example', true, 10)).toEqual(['https://a.agents.example/c.json']);
      expect(await storage.clientMetadata.clientIdsOnHost('nobody.example', false, 10)).toEqual([]);

      expect(await storage.clientMetadata.logo(id)).toBeNull();
      const logo = { contentType: 'image/png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]), fetchedAt: T0 };
      await storage.clientMetadata.putLogo(id, logo);
      expect(await storage.clientMetadata.logo(id)).toEqual(logo);
      const replaced = { contentType: 'image/gif', data: Buffer.from('GIF89a'), fetchedAt: T0 + 5 };
      await storage.clientMetadata.putLogo(id, replaced);
      expect(await storage.clientMetadata.logo(id)).toEqual(replaced);
      await storage.clientMetadata.deleteLogo(id);
      expect(await storage.clientMetadata.logo(id)).toBeNull();
      await storage.clientMetadata.putLogo(id, logo);
      await storage.clients.delete(id);
      expect(await storage.clientMetadata.logo(id)).toBeNull();

      const block = { pattern: '*.evil.example', reason: 'abuse', createdBy: null, createdAt: T0 };
      expect(await storage.clientMetadata.block(block)).toBe(true);
      expect(await storage.clientMetadata.block({ ...block, reason: 'again' })).toBe(false);
      expect(await storage.clientMetadata.getBlock('*.evil.example')).toEqual(block);
      expect(await storage.clientMetadata.block({ pattern: 'agents.example', reason: null, createdBy: null, createdAt: T0 + 1 })).toBe(true);
      expect(await storage.clientMetadata.anyBlocked(['https://x.evil.example/c.json', 'x.evil.example', '*.evil.example', '*.example'])).toBe(true);
      expect(await storage.clientMetadata.anyBlocked(['https://good.example/c.json', 'good.example', '*.example'])).toBe(false);
      expect(await storage.clientMetadata.anyBlocked([])).toBe(false);
      const page = await storage.clientMetadata.blocks({ limit: 1 });
      expect(page).toEqual({ items: [block], total: 2 });
      expect((await storage.clientMetadata.blocks({ limit: 1, offset: 1 })).items.map((b) => b.pattern)).toEqual(['agents.example']);
      expect(await storage.clientMetadata.unblock('*.evil.example')).toBe(true);
      expect(await storage.clientMetadata.unblock('*.evil.example')).toBe(false);
      expect(await storage.clientMetadata.getBlock('*.evil.example')).toBeNull();
    });

    it('issue #15 §3: markUsed records the first use once; purgeUnused removes only never-used dynamic registrations', async () => {
      await storage.clients.create(aClient('dyn-old', { dynamic: true }), T0 - 10 * DAY);
      await storage.clients.create(aClient('dyn-used', { dynamic: true }), T0 - 10 * DAY);
      await storage.clients.create(aClient('dyn-new', { dynamic: true }), T0);
      await storage.clients.create(aClient('admin-made'), T0 - 10 * DAY);
      await storage.clients.markUsed('dyn-used', T0 - 5 * DAY);
      await storage.clients.markUsed('dyn-used', T0);
      expect((await storage.clients.byId('dyn-used'))?.usedAt).toBe(T0 - 5 * DAY);
      expect(await storage.clients.purgeUnused(T0 - DAY, 100)).toBe(1);
      expect(await storage.clients.byId('dyn-old')).toBeNull();
      for (const id of ['dyn-used', 'dyn-new', 'admin-made']) expect(await storage.clients.byId(id), id).not.toBeNull();
      expect(await storage.clients.purgeUnused(T0 - DAY, 100)).toBe(0);
    });

    it('update applies the patch, sets updatedAt, bumps scopesVersion only when the scope set changes', async () => {
      await storage.clients.create(aClient('c1', { scopes: ['a', 'b'] }), T0);

      const renamed = await storage.clients.update('c1', { name: 'Renamed', description: 'd' }, T0 + 1);
      expect(renamed).toMatchObject({ name: 'Renamed', description: 'd', scopesVersion: 1, createdAt: T0, updatedAt: T0 + 1 });

      const reordered = await storage.clients.update('c1', { scopes: ['b', 'a'] }, T0 + 2);
      expect(reordered).toMatchObject({ scopes: ['b', 'a'], scopesVersion: 1, updatedAt: T0 + 2 });

      const widened = await storage.clients.update('c1', { scopes: ['a', 'b', 'c'] }, T0 + 3);
      expect(widened).toMatchObject({ scopes: ['a', 'b', 'c'], scopesVersion: 2, updatedAt: T0 + 3 });

      const same = await storage.clients.update('c1', { scopes: ['a', 'b', 'c'], description: null }, T0 + 4);
      expect(same).toMatchObject({ scopesVersion: 2, description: null, updatedAt: T0 + 4 });

      const narrowed = await storage.clients.update('c1', { scopes: ['a'] }, T0 + 5);
      expect(narrowed?.scopesVersion).toBe(3);

      const everything = await storage.clients.update(
        'c1',
        {
          website: 'https://w',
          logoUri: 'https://l',
          redirectUris: ['https://x/cb'],
          grantTypes: ['client_credentials', 'refresh_token'],
          clientType: 'public',
          orgId: 'o9',
          ownerId: 'u9',
          actsAsUserId: 'u8',
          internal: true,
          active: false,
          secretHash: null,
          tokenFormat: 'jwt',
          accessTtl: null,
          refreshEnabled: false,
          refreshTtl: 60,
          registrationTokenHash: 'rat',
          adminDeactivated: true,
          previousSecretHash: 'old-hash',
          previousSecretExpiresAt: T0 + 60_000,
          idTokenSignedResponseAlg: 'EdDSA',
          postLogoutRedirectUris: ['https://x/bye', 'https://x/bye2'],
          oidc: { applicationType: 'native', defaultMaxAge: 600, contacts: ['ops@x.example'], backchannelLogoutUri: 'https://x/bc', backchannelLogoutSessionRequired: true },
          tokenExchange: { audiences: ['https://api.x'], impersonation: false, refreshTokens: true },
        },
        T0 + 6,
      );
      const expected = {
        ...aClient('c1'),
        usedAt: null,
        adminDeactivated: true,
        previousSecretHash: 'old-hash',
        previousSecretExpiresAt: T0 + 60_000,
        idTokenSignedResponseAlg: 'EdDSA',
        postLogoutRedirectUris: ['https://x/bye', 'https://x/bye2'],
        oidc: { applicationType: 'native', defaultMaxAge: 600, contacts: ['ops@x.example'], backchannelLogoutUri: 'https://x/bc', backchannelLogoutSessionRequired: true },
        tokenExchange: { audiences: ['https://api.x'], impersonation: false, refreshTokens: true },
        metadataDocument: null,
        privateKeyJwt: null,
        name: 'Renamed',
        description: null,
        scopes: ['a'],
        website: 'https://w',
        logoUri: 'https://l',
        redirectUris: ['https://x/cb'],
        grantTypes: ['client_credentials', 'refresh_token'],
        clientType: 'public',
        orgId: 'o9',
        ownerId: 'u9',
        actsAsUserId: 'u8',
        internal: true,
        active: false,
        secretHash: null,
        tokenFormat: 'jwt',
        accessTtl: null,
        refreshEnabled: false,
        refreshTtl: 60,
        registrationTokenHash: 'rat',
        scopesVersion: 3,
        createdAt: T0,
        updatedAt: T0 + 6,
      };
      expect(everything).toEqual(expected);
      expect(await storage.clients.byId('c1')).toEqual(expected);
    });

    it('update returns null for an unknown client', async () => {
      expect(await storage.clients.update('missing', { name: 'x' }, T0)).toBeNull();
    });

    it('list filters by name (case-insensitive, literal wildcards), org, active, owner; orders and paginates', async () => {
      await storage.clients.create(aClient('c1', { name: 'Alpha App', orgId: 'o1', ownerId: 'u1' }), T0 + 1000);
      await storage.clients.create(aClient('c2', { name: 'alphabet', orgId: 'o2', active: false }), T0 + 2000);
      await storage.clients.create(aClient('c3', { name: 'Beta', orgId: 'o1', ownerId: 'u1' }), T0 + 3000);
      await storage.clients.create(aClient('c4', { name: 'ALPHA 100%', ownerId: 'u2' }), T0 + 2000);
      await storage.clients.create(aClient('c5', { name: 'Gamma_Ray', orgId: 'o1', active: false }), T0 + 500);

      const ids = async (filter?: Parameters<Storage['clients']['list']>[0]): Promise<[string[], number]> => {
        const { items, total } = await storage.clients.list(filter);
        return [items.map((c) => c.clientId), total];
      };
      expect(await ids()).toEqual([['c3', 'c2', 'c4', 'c1', 'c5'], 5]);
      expect(await ids({ name: 'alpha' })).toEqual([['c2', 'c4', 'c1'], 3]);
      expect(await ids({ name: 'PHA A' })).toEqual([['c1'], 1]);
      expect(await ids({ name: '%' })).toEqual([['c4'], 1]);
      expect(await ids({ name: '_' })).toEqual([['c5'], 1]);
      expect(await ids({ name: 'a_r' })).toEqual([['c5'], 1]);
      expect(await ids({ name: 'zzz' })).toEqual([[], 0]);
      expect(await ids({ orgId: 'o1' })).toEqual([['c3', 'c1', 'c5'], 3]);
      expect(await ids({ active: false })).toEqual([['c2', 'c5'], 2]);
      expect(await ids({ active: true })).toEqual([['c3', 'c4', 'c1'], 3]);
      expect(await ids({ ownerId: 'u1' })).toEqual([['c3', 'c1'], 2]);
      expect(await ids({ orgId: 'o1', active: true, name: 'a' })).toEqual([['c3', 'c1'], 2]);

      expect(await ids({ limit: 2 })).toEqual([['c3', 'c2'], 5]);
      expect(await ids({ limit: 2, offset: 2 })).toEqual([['c4', 'c1'], 5]);
      expect(await ids({ limit: 2, offset: 4 })).toEqual([['c5'], 5]);
      expect(await ids({ limit: 2, offset: 10 })).toEqual([[], 5]);
      expect(await ids({ offset: 3 })).toEqual([['c1', 'c5'], 5]);
      expect(await ids({ name: 'alpha', limit: 1, offset: 1 })).toEqual([['c4'], 3]);

      // Sorted by the database (issue #15 §12), ties newest first.
      expect(await ids({ sort: 'name', dir: 'asc' })).toEqual([['c4', 'c1', 'c2', 'c3', 'c5'], 5]);
      expect(await ids({ sort: 'name', dir: 'desc', limit: 2, offset: 1 })).toEqual([['c3', 'c2'], 5]);
      expect(await ids({ sort: 'status', dir: 'asc' })).toEqual([['c2', 'c5', 'c3', 'c4', 'c1'], 5]);
      expect(await ids({ sort: 'created', dir: 'asc' })).toEqual([['c5', 'c1', 'c2', 'c4', 'c3'], 5]);
      expect(await ids({ sort: 'name', dir: 'asc', orgId: 'o1' })).toEqual([['c1', 'c3', 'c5'], 3]);
    });

    it('sorts by organization name, applications without one first', async () => {
      await storage.organizations.create({ id: 'oz', name: 'zebra', createdAt: T0 });
      await storage.organizations.create({ id: 'oa', name: 'Aardvark', createdAt: T0 });
      await storage.clients.create(aClient('c1', { orgId: 'oz' }), T0 + 1);
      await storage.clients.create(aClient('c2', { orgId: 'oa' }), T0 + 2);
      await storage.clients.create(aClient('c3'), T0 + 3);
      await storage.clients.create(aClient('c4', { orgId: 'oa' }), T0 + 4);
      const ids = async (dir: 'asc' | 'desc'): Promise<string[]> => (await storage.clients.list({ sort: 'org', dir })).items.map((c) => c.clientId);
      expect(await ids('asc')).toEqual(['c3', 'c4', 'c2', 'c1']);
      expect(await ids('desc')).toEqual(['c1', 'c4', 'c2', 'c3']);
    });

    it('delete returns whether a row went, and cascades to codes, tokens and consents', async () => {
      await storage.users.create(aUser('u1'));
      await storage.clients.create(aClient('c1'), T0);
      await storage.clients.create(aClient('c2'), T0);
      await storage.codes.create(aCode('code1', { clientId: 'c1' }));
      await storage.codes.create(aCode('code2', { clientId: 'c2' }));
      await storage.tokens.insertMany([
        aToken('r1', { clientId: 'c1', kind: 'refresh', familyId: 'f1' }),
        aToken('a1', { clientId: 'c1', familyId: 'f1', parentHash: 'r1' }),
        aToken('a2', { clientId: 'c2' }),
      ]);
      await storage.consents.upsert({ userId: 'u1', clientId: 'c1', scope: 'read', scopesVersion: 1 }, T0);
      await storage.consents.upsert({ userId: 'u1', clientId: 'c2', scope: 'read', scopesVersion: 1 }, T0);

      expect(await storage.clients.delete('c1')).toBe(true);
      expect(await storage.clients.delete('c1')).toBe(false);
      expect(await storage.clients.byId('c1')).toBeNull();
      expect(await storage.codes.byHash('code1')).toBeNull();
      expect(await storage.tokens.byHash('r1')).toBeNull();
      expect(await storage.tokens.byHash('a1')).toBeNull();
      expect(await storage.consents.get('u1', 'c1')).toBeNull();

      expect(await storage.codes.byHash('code2')).not.toBeNull();
      expect(await storage.tokens.byHash('a2')).not.toBeNull();
      expect(await storage.consents.get('u1', 'c2')).not.toBeNull();
      expect(await storage.users.byId('u1')).not.toBeNull();
    });
  });

  describe('authorization codes', () => {
    beforeEach(seedUserAndClient);

    it('creates and reads back every field', async () => {
      const code = aCode('h1', {
        resource: 'https://api.example',
        codeChallenge: 'challenge',
        codeChallengeMethod: 'S256',
        familyId: 'fam',
        replaceExisting: true,
      });
      await storage.codes.create(code);
      expect(await storage.codes.byHash('h1')).toEqual(code);
      expect(await storage.codes.byHash('missing')).toBeNull();
      await expect(storage.codes.create(code)).rejects.toThrow();
    });

    it('consume succeeds once', async () => {
      await storage.codes.create(aCode('h1'));
      expect(await consume('code', 'h1', T0 + 1)).toBe(true);
      expect(await consume('code', 'h1', T0 + 2)).toBe(false);
      expect((await storage.codes.byHash('h1'))?.consumedAt).toBe(T0 + 1);
      expect(await consume('code', 'missing', T0)).toBe(false);
    });

    it('20 concurrent consumes of one code: exactly one winner', async () => {
      await storage.codes.create(aCode('h1'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => consume('code', 'h1', T0 + 1 + i)),
      );
      expect(results.filter((won) => won)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await storage.codes.byHash('h1'))?.consumedAt).toBe(T0 + 1 + winner);
    });

    it('deleteByUserAndClient removes only that user\'s codes for that client', async () => {
      await storage.users.create(aUser('u2'));
      await storage.clients.create(aClient('c2'), T0);
      await storage.codes.create(aCode('a'));
      await storage.codes.create(aCode('b', { consumedAt: T0 }));
      await storage.codes.create(aCode('other-user', { userId: 'u2' }));
      await storage.codes.create(aCode('other-client', { clientId: 'c2' }));
      expect(await storage.codes.deleteByUserAndClient('u1', 'c1')).toBe(2);
      expect(await storage.codes.byHash('a')).toBeNull();
      expect(await storage.codes.byHash('b')).toBeNull();
      expect(await storage.codes.byHash('other-user')).not.toBeNull();
      expect(await storage.codes.byHash('other-client')).not.toBeNull();
      expect(await storage.codes.deleteByUserAndClient('u1', 'c1')).toBe(0);
    });

    it('deleteByUser removes every code of that user, of every client', async () => {
      await storage.users.create(aUser('u2'));
      await storage.clients.create(aClient('c2'), T0);
      await storage.codes.create(aCode('du-a'));
      await storage.codes.create(aCode('du-b', { clientId: 'c2' }));
      await storage.codes.create(aCode('du-other', { userId: 'u2' }));
      expect(await storage.codes.deleteByUser('u1')).toBe(2);
      expect(await storage.codes.byHash('du-b')).toBeNull();
      expect(await storage.codes.byHash('du-other')).not.toBeNull();
      expect(await storage.codes.deleteByUser('u1')).toBe(0);
    });

    it('purgeExpired deletes codes that expired strictly before the cut-off', async () => {
      await storage.codes.create(aCode('old', { expiresAt: T0 - 1 }));
      await storage.codes.create(aCode('old-consumed', { expiresAt: T0 - 100, consumedAt: T0 - 200 }));
      await storage.codes.create(aCode('edge', { expiresAt: T0 }));
      await storage.codes.create(aCode('fresh', { expiresAt: T0 + 1 }));
      expect(await storage.codes.purgeExpired(T0)).toBe(2);
      expect(await storage.codes.byHash('old')).toBeNull();
      expect(await storage.codes.byHash('old-consumed')).toBeNull();
      expect(await storage.codes.byHash('edge')).not.toBeNull();
      expect(await storage.codes.byHash('fresh')).not.toBeNull();
      expect(await storage.codes.purgeExpired(T0)).toBe(0);
    });
  });

  describe('tokens', () => {
    beforeEach(async () => {
      await seedUserAndClient();
      await storage.users.create(aUser('u2'));
      await storage.clients.create(aClient('c2'), T0);
    });

    it('inserts and reads back every field (revokedAt/consumedAt start null)', async () => {
      const token = aToken('t1', {
        kind: 'refresh',
        format: 'jwt',
        audience: 'https://api.example',
        familyId: 'f1',
        parentHash: 'p1',
        expiresAt: null,
      });
      await storage.tokens.insert(token);
      expect(await storage.tokens.byHash('t1')).toEqual({ ...token, revokedAt: null, consumedAt: null });
      expect(await storage.tokens.byHash('missing')).toBeNull();
      const cc = aToken('t2', { userId: null, scope: '' });
      await storage.tokens.insert(cc);
      expect(await storage.tokens.byHash('t2')).toEqual({ ...cc, revokedAt: null, consumedAt: null });
    });

    it('issue #16 §1: the three token writers (raw insert, raw batch, raw redemption; Kysely in a transaction) store the same row, and every column of the table is written or set later', async () => {
      const columns = await harness.tokenTableColumns();
      expect([...columns].sort()).toEqual([...TOKEN_WRITE_COLUMNS.map((c) => c.name), ...TOKEN_COLUMNS_SET_LATER].sort());
      // Every written field set (none null), so a column dropped or swapped by one writer shows.
      const full = (hash: string, kind: NewToken['kind'] = 'access'): NewToken =>
        aToken(hash, {
          kind,
          format: 'jwt',
          userId: 'u2',
          clientId: 'c2',
          scope: 'read write',
          audience: 'https://api.example',
          familyId: `fam-${hash}`,
          parentHash: `parent-${hash}`,
          expiresAt: T0 + 7_000,
          createdAt: T0 + 5,
          exchange: { act: { sub: 'svc' }, notAfter: T0 + 9_000, subject: 'c1' },
        });
      const written = {
        rawInsert: full('w-raw'),
        rawBatch: full('w-batch'),
        rawRedeem: full('w-redeem'),
        kyselyInsert: full('w-kysely'),
        kyselyRedeem: full('w-kysely-redeem'),
      };
      await storage.tokens.insert(written.rawInsert);
      await storage.tokens.insertMany([written.rawBatch, aToken('w-batch-2')]);
      await storage.tokens.insertMany([aToken('w-r1', { kind: 'refresh' }), aToken('w-r2', { kind: 'refresh' })]);
      expect(await storage.grants.redeem({ consume: { kind: 'refresh', hash: 'w-r1' }, now: T0 + 1, consent: null, tokens: [written.rawRedeem], graceResponse: null })).toBe(true);
      await storage.transaction(async (tx) => {
        await tx.tokens.insert(written.kyselyInsert);
        expect(await tx.grants.redeem({ consume: { kind: 'refresh', hash: 'w-r2' }, now: T0 + 1, consent: null, tokens: [written.kyselyRedeem], graceResponse: null })).toBe(true);
      });
      for (const token of Object.values(written)) {
        expect(await storage.tokens.byHash(token.tokenHash)).toEqual({ ...token, revokedAt: null, consumedAt: null });
      }
      // And the nulls: a client-credentials token with every nullable field null, both ways.
      const bare = aToken('w-bare', { userId: null, audience: null, familyId: null, parentHash: null, expiresAt: null });
      const bareTx = { ...bare, tokenHash: 'w-bare-tx' };
      await storage.tokens.insert(bare);
      await storage.transaction((tx) => tx.tokens.insert(bareTx));
      expect(await storage.tokens.byHash('w-bare')).toEqual({ ...bare, revokedAt: null, consumedAt: null });
      expect(await storage.tokens.byHash('w-bare-tx')).toEqual({ ...bareTx, revokedAt: null, consumedAt: null });
    });

    it('insertMany inserts all, accepts an empty list, and is all-or-nothing', async () => {
      await storage.tokens.insertMany([]);
      await storage.tokens.insertMany([aToken('a'), aToken('b', { kind: 'refresh' })]);
      expect((await storage.tokens.byHash('a'))?.kind).toBe('access');
      expect((await storage.tokens.byHash('b'))?.kind).toBe('refresh');
      await expect(storage.tokens.insertMany([aToken('c'), aToken('a')])).rejects.toThrow();
      expect(await storage.tokens.byHash('c')).toBeNull();
    });

    it('consume succeeds once, never on a revoked token', async () => {
      await storage.tokens.insertMany([aToken('r1', { kind: 'refresh' }), aToken('r2', { kind: 'refresh' })]);
      expect(await consume('refresh', 'r1', T0 + 1)).toBe(true);
      expect(await consume('refresh', 'r1', T0 + 2)).toBe(false);
      expect((await storage.tokens.byHash('r1'))?.consumedAt).toBe(T0 + 1);
      expect(await storage.tokens.revoke('r2', T0 + 1)).toBe(1);
      expect(await consume('refresh', 'r2', T0 + 2)).toBe(false);
      expect((await storage.tokens.byHash('r2'))?.consumedAt).toBeNull();
      expect(await consume('refresh', 'missing', T0)).toBe(false);
    });

    it('20 concurrent consumes of one refresh token: exactly one winner', async () => {
      await storage.tokens.insert(aToken('r1', { kind: 'refresh', familyId: 'f1' }));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => consume('refresh', 'r1', T0 + 1 + i)),
      );
      expect(results.filter((won) => won)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await storage.tokens.byHash('r1'))?.consumedAt).toBe(T0 + 1 + winner);
    });

    it('revoke of a refresh token cascades to its access tokens only; already-revoked rows keep their time', async () => {
      await storage.tokens.insertMany([
        aToken('r1', { kind: 'refresh', familyId: 'f1' }),
        aToken('a1', { familyId: 'f1', parentHash: 'r1' }),
        aToken('a2', { familyId: 'f1', parentHash: 'r1' }),
        aToken('r0', { kind: 'refresh', familyId: 'f1' }),
        aToken('a0', { familyId: 'f1', parentHash: 'r0' }),
        aToken('x', { familyId: 'f2' }),
      ]);
      expect(await storage.tokens.revoke('a2', T0 - 10)).toBe(1);

      expect(await storage.tokens.revoke('r1', T0)).toBe(2);
      expect((await storage.tokens.byHash('r1'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('a1'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('a2'))?.revokedAt).toBe(T0 - 10);
      expect((await storage.tokens.byHash('r0'))?.revokedAt).toBeNull();
      expect((await storage.tokens.byHash('a0'))?.revokedAt).toBeNull();
      expect((await storage.tokens.byHash('x'))?.revokedAt).toBeNull();

      expect(await storage.tokens.revoke('r1', T0 + 1)).toBe(0);
      expect((await storage.tokens.byHash('r1'))?.revokedAt).toBe(T0);
      expect(await storage.tokens.revoke('a0', T0 + 2)).toBe(1);
      expect((await storage.tokens.byHash('r0'))?.revokedAt).toBeNull();
      expect(await storage.tokens.revoke('missing', T0)).toBe(0);
    });

    it('revokeFamily revokes the not-yet-revoked tokens of that family', async () => {
      await storage.tokens.insertMany([
        aToken('r1', { kind: 'refresh', familyId: 'f1' }),
        aToken('a1', { familyId: 'f1', parentHash: 'r1' }),
        aToken('a2', { familyId: 'f1' }),
        aToken('b1', { familyId: 'f2' }),
        aToken('n1'),
      ]);
      await storage.tokens.revoke('a2', T0 - 5);
      expect(await storage.tokens.revokeFamily('f1', T0)).toBe(2);
      expect((await storage.tokens.byHash('r1'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('a1'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('a2'))?.revokedAt).toBe(T0 - 5);
      expect((await storage.tokens.byHash('b1'))?.revokedAt).toBeNull();
      expect((await storage.tokens.byHash('n1'))?.revokedAt).toBeNull();
      expect(await storage.tokens.revokeFamily('f1', T0 + 1)).toBe(0);
      expect(await storage.tokens.revokeFamily('nope', T0)).toBe(0);
    });

    it('revokeByClient and revokeByUserAndClient', async () => {
      await storage.tokens.insertMany([
        aToken('u1c1a', { userId: 'u1', clientId: 'c1' }),
        aToken('u1c1b', { userId: 'u1', clientId: 'c1', kind: 'refresh' }),
        aToken('u2c1', { userId: 'u2', clientId: 'c1' }),
        aToken('u1c2', { userId: 'u1', clientId: 'c2' }),
        aToken('ccc2', { userId: null, clientId: 'c2' }),
      ]);
      expect(await storage.tokens.revokeByUserAndClient('u1', 'c1', T0)).toBe(2);
      expect((await storage.tokens.byHash('u2c1'))?.revokedAt).toBeNull();
      expect((await storage.tokens.byHash('u1c2'))?.revokedAt).toBeNull();
      expect(await storage.tokens.revokeByUserAndClient('u1', 'c1', T0 + 1)).toBe(0);

      expect(await storage.tokens.revokeByClient('c1', T0 + 2)).toBe(1);
      expect((await storage.tokens.byHash('u1c1a'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('u2c1'))?.revokedAt).toBe(T0 + 2);
      expect(await storage.tokens.revokeByClient('c2', T0 + 3)).toBe(2);
      expect(await storage.tokens.revokeByClient('c2', T0 + 4)).toBe(0);
    });

    it('token exchange (0014): the exchange facts round-trip through insert, insertMany and a redemption; absent elsewhere', async () => {
      const exchange = { act: { sub: 'svc', act: { sub: 'first' } }, notAfter: T0 + 1000, subject: null };
      await storage.tokens.insert(aToken('e1', { familyId: 'f1', exchange }));
      expect(await storage.tokens.byHash('e1')).toEqual({ ...aToken('e1', { familyId: 'f1', exchange }), revokedAt: null, consumedAt: null });
      const impersonation = { act: null, notAfter: null, subject: 'c2' };
      await storage.tokens.insertMany([aToken('e2', { kind: 'refresh', familyId: 'f2', exchange: impersonation }), aToken('plain')]);
      expect((await storage.tokens.byHash('e2'))?.exchange).toEqual(impersonation);
      expect(await storage.tokens.byHash('plain')).not.toHaveProperty('exchange');
      const won = await storage.grants.redeem({
        consume: { kind: 'refresh', hash: 'e2' },
        now: T0 + 1,
        consent: null,
        tokens: [aToken('e3', { familyId: 'f2', exchange: impersonation })],
        graceResponse: null,
      });
      expect(won).toBe(true);
      expect((await storage.tokens.byHash('e3'))?.exchange).toEqual(impersonation);
    });

    it('token exchange: revoking a token without a family revokes the family named after it (what was exchanged from it)', async () => {
      await storage.tokens.insertMany([
        aToken('cc', { userId: null, clientId: 'c1' }),
        aToken('xa', { userId: null, clientId: 'c2', familyId: exchangeFamilyOf('cc') }),
        aToken('xr', { userId: null, clientId: 'c2', kind: 'refresh', familyId: exchangeFamilyOf('cc') }),
        aToken('other', { userId: null, clientId: 'c2', familyId: exchangeFamilyOf('zz') }),
      ]);
      expect(await storage.tokens.revoke('cc', T0)).toBe(3);
      expect((await storage.tokens.byHash('xa'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('xr'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('other'))?.revokedAt).toBeNull();
    });

    it('token exchange: revokeByUserAndClient and revokeByClient also revoke what other applications exchanged from those tokens', async () => {
      await storage.clients.create(aClient('c3'), T0);
      await storage.tokens.insertMany([
        // u1's grant with c1 (family f1), and c2's token exchanged from it (same family).
        aToken('r1', { userId: 'u1', clientId: 'c1', kind: 'refresh', familyId: 'f1' }),
        aToken('a1', { userId: 'u1', clientId: 'c1', familyId: 'f1', parentHash: 'r1' }),
        aToken('x1', { userId: 'u1', clientId: 'c2', familyId: 'f1' }),
        // u1's family-less c1 token (password grant without refresh) and c2's exchange of it.
        aToken('p1', { userId: 'u1', clientId: 'c1' }),
        aToken('x2', { userId: 'u1', clientId: 'c2', familyId: exchangeFamilyOf('p1') }),
        // Kept: the grant named as the exception, what was exchanged from it, and c2's own tokens.
        aToken('r9', { userId: 'u1', clientId: 'c1', kind: 'refresh', familyId: 'f9' }),
        aToken('x9', { userId: 'u1', clientId: 'c2', familyId: 'f9' }),
        aToken('own', { userId: 'u1', clientId: 'c2', familyId: 'f2' }),
        // u2's exchange of u2's own c1 family: another person, left alone by u1's disconnection.
        aToken('u2r', { userId: 'u2', clientId: 'c1', kind: 'refresh', familyId: 'f3' }),
        aToken('u2x', { userId: 'u2', clientId: 'c3', familyId: 'f3' }),
        // An application-only c1 token exchanged by c3.
        aToken('cc', { userId: null, clientId: 'c1' }),
        aToken('ccx', { userId: null, clientId: 'c3', familyId: exchangeFamilyOf('cc') }),
      ]);
      expect(await storage.tokens.revokeByUserAndClient('u1', 'c1', T0, 'f9')).toBe(5);
      for (const h of ['r1', 'a1', 'x1', 'p1', 'x2']) expect((await storage.tokens.byHash(h))?.revokedAt).toBe(T0);
      for (const h of ['r9', 'x9', 'own', 'u2r', 'u2x', 'cc', 'ccx']) expect((await storage.tokens.byHash(h))?.revokedAt).toBeNull();
      expect(await storage.tokens.revokeByUserAndClient('u1', 'c1', T0 + 1)).toBe(2);
      expect((await storage.tokens.byHash('x9'))?.revokedAt).toBe(T0 + 1);
      expect((await storage.tokens.byHash('own'))?.revokedAt).toBeNull();

      expect(await storage.tokens.revokeByClient('c1', T0 + 2)).toBe(4);
      for (const h of ['u2r', 'u2x', 'cc', 'ccx']) expect((await storage.tokens.byHash(h))?.revokedAt).toBe(T0 + 2);
      expect((await storage.tokens.byHash('own'))?.revokedAt).toBeNull();
      expect(await storage.tokens.revokeByClient('c1', T0 + 3)).toBe(0);
    });

    it('revokeByUser revokes the user\'s tokens of every application, and nobody else\'s', async () => {
      await storage.tokens.insertMany([
        aToken('ru1a', { userId: 'u1', clientId: 'c1' }),
        aToken('ru1b', { userId: 'u1', clientId: 'c2', kind: 'refresh' }),
        aToken('ru2', { userId: 'u2', clientId: 'c1' }),
        aToken('rcc', { userId: null, clientId: 'c1' }),
      ]);
      await storage.tokens.revoke('ru1a', T0 - 5);
      expect(await storage.tokens.revokeByUser('u1', T0)).toBe(1);
      expect((await storage.tokens.byHash('ru1a'))?.revokedAt).toBe(T0 - 5);
      expect((await storage.tokens.byHash('ru1b'))?.revokedAt).toBe(T0);
      expect((await storage.tokens.byHash('ru2'))?.revokedAt).toBeNull();
      expect((await storage.tokens.byHash('rcc'))?.revokedAt).toBeNull();
      expect(await storage.tokens.revokeByUser('u1', T0 + 1)).toBe(0);
    });

    it('purgeExpired works through more rows than one batch (12,000)', async () => {
      for (let chunk = 0; chunk < 24; chunk++) {
        await storage.tokens.insertMany(
          Array.from({ length: 500 }, (_, i) => aToken(`old-${chunk}-${i}`, { expiresAt: T0 - 1 })),
        );
      }
      await storage.tokens.insert(aToken('live', { expiresAt: T0 + 1 }));
      expect(await storage.tokens.purgeExpired(T0)).toBe(12_000);
      expect(await storage.tokens.byHash('old-0-0')).toBeNull();
      expect(await storage.tokens.byHash('live')).not.toBeNull();
    });

    it('purgeExpired deletes expired or revoked-before tokens, keeps long-lived unrevoked ones', async () => {
      await storage.tokens.insertMany([
        aToken('expired', { expiresAt: T0 - 1 }),
        aToken('edge', { expiresAt: T0 }),
        aToken('fresh', { expiresAt: T0 + 1000 }),
        aToken('forever', { expiresAt: null }),
        aToken('forever-revoked', { expiresAt: null }),
        aToken('fresh-revoked', { expiresAt: T0 + 1000 }),
        aToken('fresh-revoked-later', { expiresAt: T0 + 1000 }),
        aToken('consumed', { kind: 'refresh', expiresAt: T0 + 1000 }),
      ]);
      await storage.tokens.revoke('forever-revoked', T0 - 5);
      await storage.tokens.revoke('fresh-revoked', T0 - 1);
      await storage.tokens.revoke('fresh-revoked-later', T0 + 1);
      await consume('refresh', 'consumed', T0 - 50);

      expect(await storage.tokens.purgeExpired(T0)).toBe(3);
      for (const gone of ['expired', 'forever-revoked', 'fresh-revoked']) {
        expect(await storage.tokens.byHash(gone)).toBeNull();
      }
      for (const kept of ['edge', 'fresh', 'forever', 'fresh-revoked-later', 'consumed']) {
        expect(await storage.tokens.byHash(kept)).not.toBeNull();
      }
      expect(await storage.tokens.purgeExpired(T0)).toBe(0);
    });

    it('countIssuedSince groups by client and UTC day', async () => {
      const day1 = Date.UTC(2024, 0, 14);
      const day2 = Date.UTC(2024, 0, 15);
      await storage.tokens.insertMany([
        aToken('before', { clientId: 'c1', createdAt: day1 - 1 }),
        aToken('d1-start', { clientId: 'c1', createdAt: day1 }),
        aToken('d1-end', { clientId: 'c1', createdAt: day2 - 1 }),
        aToken('d2-start', { clientId: 'c1', createdAt: day2 }),
        aToken('d2-noon', { clientId: 'c1', createdAt: day2 + DAY / 2, kind: 'refresh' }),
        aToken('c2-d2', { clientId: 'c2', createdAt: day2 + 1 }),
      ]);
      expect(await storage.tokens.countIssuedSince(day1)).toEqual([
        { clientId: 'c1', day: '2024-01-14', count: 2 },
        { clientId: 'c1', day: '2024-01-15', count: 2 },
        { clientId: 'c2', day: '2024-01-15', count: 1 },
      ]);
      expect(await storage.tokens.countIssuedSince(day2 + 1)).toEqual([
        { clientId: 'c1', day: '2024-01-15', count: 1 },
        { clientId: 'c2', day: '2024-01-15', count: 1 },
      ]);
      expect(await storage.tokens.countIssuedSince(day2 + DAY)).toEqual([]);
    });
  });

  describe('refresh grace', () => {
    beforeEach(seedUserAndClient);

    it('stores the grace window per client and the sealed rotation response per token', async () => {
      expect((await storage.clients.byId('c1'))?.refreshGraceSeconds).toBe(0);
      expect((await storage.clients.update('c1', { refreshGraceSeconds: 30 }, T0 + 1))?.refreshGraceSeconds).toBe(30);
      await storage.tokens.insert({
        tokenHash: 'rt',
        kind: 'refresh',
        format: 'opaque',
        clientId: 'c1',
        userId: 'u1',
        scope: 'read',
        audience: null,
        familyId: 'f',
        parentHash: null,
        expiresAt: null,
        createdAt: T0,
      });
      expect(await storage.tokens.graceResponse('rt')).toBeNull();
      await consume('refresh', 'rt', T0 + 1, storage, 'sealed-blob');
      expect(await storage.tokens.graceResponse('rt')).toBe('sealed-blob');
      expect(await storage.tokens.graceResponse('missing')).toBeNull();
    });
  });

  describe('grants.redeem (one commit per authorization-code or refresh redemption)', () => {
    const consent = { userId: 'u1', clientId: 'c1' };
    const issued = (n: string): NewToken[] => [
      aToken(`${n}-rt`, { kind: 'refresh', familyId: 'fam', expiresAt: null }),
      aToken(`${n}-at`, { familyId: 'fam', parentHash: `${n}-rt` }),
    ];
    const refresh = (hash: string, tokens: readonly NewToken[], graceResponse: string | null = null) => ({
      consume: { kind: 'refresh' as const, hash },
      now: T0 + 10,
      consent,
      tokens,
      graceResponse,
    });

    beforeEach(async () => {
      await seedUserAndClient();
      await storage.consents.upsert({ userId: 'u1', clientId: 'c1', scope: 'read', scopesVersion: 1 }, T0);
      await storage.tokens.insertMany([aToken('old-rt', { kind: 'refresh', familyId: 'fam', expiresAt: null })]);
    });

    it('a refresh redemption consumes the token, keeps the grace response, records the consent use and stores the tokens', async () => {
      expect(await storage.grants.redeem(refresh('old-rt', issued('n1'), 'sealed'))).toBe(true);
      expect(await storage.tokens.byHash('old-rt')).toMatchObject({ consumedAt: T0 + 10, revokedAt: null });
      expect(await storage.tokens.graceResponse('old-rt')).toBe('sealed');
      expect((await storage.consents.get('u1', 'c1'))?.lastUsedAt).toBe(T0 + 10);
      expect(await storage.tokens.byHash('n1-rt')).toMatchObject({ kind: 'refresh', familyId: 'fam', consumedAt: null });
      expect(await storage.tokens.byHash('n1-at')).toMatchObject({ kind: 'access', parentHash: 'n1-rt' });
    });

    it('issue #17: the consent use is recorded to the minute, on the hot path and in a transaction: a use less than a minute after the recorded one leaves it, a later one moves it', async () => {
      await storage.tokens.insertMany(['r2', 'r3', 'r4', 'r5'].map((h) => aToken(h, { kind: 'refresh', familyId: 'fam', expiresAt: null })));
      const at = (hash: string, now: number) => ({ consume: { kind: 'refresh' as const, hash }, now, consent, tokens: [], graceResponse: null });
      const lastUse = async () => (await storage.consents.get('u1', 'c1'))?.lastUsedAt;
      expect(await storage.grants.redeem(at('old-rt', T0 + 10))).toBe(true);
      expect(await lastUse()).toBe(T0 + 10);
      expect(await storage.grants.redeem(at('r2', T0 + 10 + CONSENT_USE_GRANULARITY_MS - 1))).toBe(true);
      expect(await lastUse()).toBe(T0 + 10);
      expect(await storage.grants.redeem(at('r3', T0 + 10 + CONSENT_USE_GRANULARITY_MS))).toBe(true);
      expect(await lastUse()).toBe(T0 + 10 + CONSENT_USE_GRANULARITY_MS);
      // The same rule inside a transaction (Kysely's statements rather than the raw path's).
      await storage.transaction(async (tx) => {
        expect(await tx.grants.redeem(at('r4', T0 + 20 + CONSENT_USE_GRANULARITY_MS))).toBe(true);
      });
      expect(await lastUse()).toBe(T0 + 10 + CONSENT_USE_GRANULARITY_MS);
      await storage.transaction(async (tx) => {
        expect(await tx.grants.redeem(at('r5', T0 + 10 + 2 * CONSENT_USE_GRANULARITY_MS))).toBe(true);
      });
      expect(await lastUse()).toBe(T0 + 10 + 2 * CONSENT_USE_GRANULARITY_MS);
    });

    it('a consumed, revoked, unknown or non-refresh token redeems nothing', async () => {
      await storage.tokens.insertMany([
        aToken('revoked-rt', { kind: 'refresh', familyId: 'fam' }),
        aToken('an-access-token'),
      ]);
      await storage.tokens.revoke('revoked-rt', T0 + 1);
      expect(await storage.grants.redeem(refresh('old-rt', issued('n1')))).toBe(true);
      expect(await storage.grants.redeem(refresh('old-rt', issued('n2'), 'sealed-2'))).toBe(false);
      expect(await storage.grants.redeem(refresh('revoked-rt', issued('n3')))).toBe(false);
      expect(await storage.grants.redeem(refresh('missing', issued('n4')))).toBe(false);
      expect(await storage.grants.redeem(refresh('an-access-token', issued('n5')))).toBe(false);
      for (const n of ['n2', 'n3', 'n4', 'n5']) {
        expect(await storage.tokens.byHash(`${n}-rt`)).toBeNull();
        expect(await storage.tokens.byHash(`${n}-at`)).toBeNull();
      }
      // The loser changed nothing on the consumed token: the winner's time, no grace response.
      expect(await storage.tokens.byHash('old-rt')).toMatchObject({ consumedAt: T0 + 10 });
      expect(await storage.tokens.graceResponse('old-rt')).toBeNull();
      expect(await storage.tokens.byHash('an-access-token')).toMatchObject({ consumedAt: null });
    });

    it('a code redemption consumes the code once, records the consent use and stores the tokens', async () => {
      await storage.codes.create(aCode('code-1', { familyId: 'fam' }));
      const redeem = (n: string) =>
        storage.grants.redeem({ consume: { kind: 'code', hash: 'code-1' }, now: T0 + 20, consent, tokens: issued(n), graceResponse: null });
      expect(await redeem('c1')).toBe(true);
      expect(await redeem('c2')).toBe(false);
      expect((await storage.codes.byHash('code-1'))?.consumedAt).toBe(T0 + 20);
      expect((await storage.consents.get('u1', 'c1'))?.lastUsedAt).toBe(T0 + 20);
      expect(await storage.tokens.byHash('c1-at')).not.toBeNull();
      expect(await storage.tokens.byHash('c2-at')).toBeNull();
      expect(
        await storage.grants.redeem({ consume: { kind: 'code', hash: 'missing' }, now: T0, consent, tokens: issued('c3'), graceResponse: null }),
      ).toBe(false);
      expect(await storage.tokens.byHash('c3-at')).toBeNull();
    });

    it('20 concurrent redemptions of one refresh token: exactly one wins, and only its tokens exist', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.grants.redeem(refresh('old-rt', issued(`r${i}`)))));
      expect(results.filter((won) => won)).toHaveLength(1);
      const winner = results.indexOf(true);
      for (let i = 0; i < 20; i++) {
        expect(await storage.tokens.byHash(`r${i}-at`) !== null).toBe(i === winner);
      }
    });

    it('a redemption that fails (a duplicate token) fails alone and leaves nothing behind; the others in its batch commit', async () => {
      await storage.tokens.insertMany([
        aToken('rt-a', { kind: 'refresh', familyId: 'fa' }),
        aToken('rt-b', { kind: 'refresh', familyId: 'fb' }),
        aToken('taken'),
      ]);
      const [a, b] = await Promise.allSettled([
        storage.grants.redeem(refresh('rt-a', [aToken('a-at'), aToken('taken')])),
        storage.grants.redeem(refresh('rt-b', issued('b'))),
      ]);
      expect(a.status).toBe('rejected');
      expect(b).toEqual({ status: 'fulfilled', value: true });
      // The failed one: not consumed, nothing inserted, so the client may retry it.
      expect(await storage.tokens.byHash('rt-a')).toMatchObject({ consumedAt: null });
      expect(await storage.tokens.byHash('a-at')).toBeNull();
      expect(await storage.tokens.byHash('rt-b')).toMatchObject({ consumedAt: T0 + 10 });
      expect(await storage.tokens.byHash('b-at')).not.toBeNull();
      expect(await storage.grants.redeem(refresh('rt-a', issued('a2')))).toBe(true);
    });

    it('writes made in the same turn (codes, tokens, redemptions) commit together; one failing write fails alone', async () => {
      await storage.codes.create(aCode('k-old'));
      const results = await Promise.allSettled([
        storage.codes.create(aCode('k-new')),
        storage.codes.create(aCode('k-old')),
        storage.tokens.insertMany([aToken('t-new')]),
        storage.tokens.insertMany([aToken('t-new-2'), aToken('old-rt')]),
        storage.grants.redeem(refresh('old-rt', issued('n1'))),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      expect(await storage.codes.byHash('k-new')).not.toBeNull();
      expect(await storage.tokens.byHash('t-new')).not.toBeNull();
      expect(await storage.tokens.byHash('t-new-2')).toBeNull();
      expect(await storage.tokens.byHash('n1-at')).not.toBeNull();
    });

    it('inside a transaction it is part of that transaction: rolled back with it', async () => {
      await expect(
        storage.transaction(async (tx) => {
          expect(await tx.grants.redeem(refresh('old-rt', issued('n1')))).toBe(true);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await storage.tokens.byHash('old-rt')).toMatchObject({ consumedAt: null });
      expect(await storage.tokens.byHash('n1-at')).toBeNull();
      expect((await storage.consents.get('u1', 'c1'))?.lastUsedAt).toBeNull();
    });

    // Never against uncommitted rows. SQLite has one connection: a redemption queued while a
    // transaction holds it waits for the commit, then finds the token. On PostgreSQL it runs at
    // once on another pooled connection, where the token does not exist yet.
    it('a redemption made while a transaction is open never sees its uncommitted rows', async () => {
      let redeemed: Promise<boolean> | undefined;
      let written: Promise<unknown> | undefined;
      await storage.transaction(async (tx) => {
        await tx.tokens.insertMany([aToken('in-tx-rt', { kind: 'refresh', familyId: 'fx' })]);
        redeemed = storage.grants.redeem(refresh('in-tx-rt', issued('x')));
        // The root handle's other group-committed writes, made meanwhile, land too.
        written = Promise.all([storage.codes.create(aCode('root-code')), storage.tokens.insertMany([aToken('root-token')])]);
        // PostgreSQL answers before this transaction commits; SQLite cannot until it has.
        if (expectedDialect === 'postgres') await Promise.all([redeemed, written]);
        else await new Promise((resolve) => setTimeout(resolve, 20));
      });
      await written;
      expect(await storage.codes.byHash('root-code')).not.toBeNull();
      expect(await storage.tokens.byHash('root-token')).not.toBeNull();
      const waitedForCommit = expectedDialect === 'sqlite';
      expect(await redeemed).toBe(waitedForCommit);
      expect((await storage.tokens.byHash('x-at')) !== null).toBe(waitedForCommit);
      expect((await storage.tokens.byHash('in-tx-rt'))?.consumedAt).toBe(waitedForCommit ? T0 + 10 : null);
    });

    // The root handle's writes never join a transaction that happens to be open on the
    // connection (SQLite): its rollback must not undo what was already answered as committed.
    it('writes made while a transaction is open are not undone when it rolls back', async () => {
      let settled: Promise<unknown[]> | undefined;
      await expect(
        storage.transaction(async (tx) => {
          await tx.tokens.insertMany([aToken('in-tx-rt', { kind: 'refresh', familyId: 'fx' })]);
          settled = Promise.all([
            storage.grants.redeem(refresh('in-tx-rt', issued('x'))),
            storage.codes.create(aCode('root-code')),
            storage.tokens.insertMany([aToken('root-token')]),
          ]);
          if (expectedDialect === 'postgres') await settled;
          else await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await settled)?.[0]).toBe(false);
      expect(await storage.tokens.byHash('in-tx-rt')).toBeNull();
      expect(await storage.tokens.byHash('x-at')).toBeNull();
      expect(await storage.codes.byHash('root-code')).not.toBeNull();
      expect(await storage.tokens.byHash('root-token')).not.toBeNull();
    });
  });

  describe('consents', () => {
    beforeEach(async () => {
      await seedUserAndClient();
      await storage.clients.create(aClient('c2'), T0);
    });

    it('upsert inserts, then updates scope and version keeping createdAt and lastUsedAt', async () => {
      expect(await storage.consents.get('u1', 'c1')).toBeNull();
      await storage.consents.upsert({ userId: 'u1', clientId: 'c1', scope: 'read', scopesVersion: 1 }, T0);
      expect(await storage.consents.get('u1', 'c1')).toEqual({
        userId: 'u1',
        clientId: 'c1',
        scope: 'read',
        scopesVersion: 1,
        createdAt: T0,
        updatedAt: T0,
        lastUsedAt: null,
      });
      // Its last use is recorded by a redemption (grants.redeem).
      await storage.codes.create(aCode('k1'));
      await storage.grants.redeem({ consume: { kind: 'code', hash: 'k1' }, now: T0 + 5, consent: { userId: 'u1', clientId: 'c1' }, tokens: [], graceResponse: null });
      expect((await storage.consents.get('u1', 'c1'))?.lastUsedAt).toBe(T0 + 5);

      await storage.consents.upsert({ userId: 'u1', clientId: 'c1', scope: 'read write', scopesVersion: 2 }, T0 + 10);
      expect(await storage.consents.get('u1', 'c1')).toEqual({
        userId: 'u1',
        clientId: 'c1',
        scope: 'read write',
        scopesVersion: 2,
        createdAt: T0,
        updatedAt: T0 + 10,
        lastUsedAt: T0 + 5,
      });
    });

    it('a redemption for a missing consent records no use and creates none', async () => {
      await storage.codes.create(aCode('k1'));
      const redeemed = await storage.grants.redeem({ consume: { kind: 'code', hash: 'k1' }, now: T0, consent: { userId: 'u1', clientId: 'c1' }, tokens: [], graceResponse: null });
      expect(redeemed).toBe(true);
      expect(await storage.consents.get('u1', 'c1')).toBeNull();
    });

    it('listByUser and delete', async () => {
      await storage.users.create(aUser('u2'));
      await storage.consents.upsert({ userId: 'u1', clientId: 'c2', scope: 'a', scopesVersion: 1 }, T0 + 1);
      await storage.consents.upsert({ userId: 'u1', clientId: 'c1', scope: 'b', scopesVersion: 1 }, T0 + 2);
      await storage.consents.upsert({ userId: 'u2', clientId: 'c1', scope: 'c', scopesVersion: 1 }, T0);
      expect((await storage.consents.listByUser('u1')).map((c) => [c.clientId, c.scope])).toEqual([
        ['c2', 'a'],
        ['c1', 'b'],
      ]);
      expect(await storage.consents.listByUser('nobody')).toEqual([]);
      expect(await storage.consents.delete('u1', 'c2')).toBe(true);
      expect(await storage.consents.delete('u1', 'c2')).toBe(false);
      expect((await storage.consents.listByUser('u1')).map((c) => c.clientId)).toEqual(['c1']);
      expect((await storage.consents.listByUser('u2')).map((c) => c.clientId)).toEqual(['c1']);
    });

    it('rejects a consent for an unknown user or client', async () => {
      await expect(
        storage.consents.upsert({ userId: 'ghost', clientId: 'c1', scope: 'a', scopesVersion: 1 }, T0),
      ).rejects.toThrow();
      await expect(
        storage.consents.upsert({ userId: 'u1', clientId: 'ghost', scope: 'a', scopesVersion: 1 }, T0),
      ).rejects.toThrow();
    });
  });

  describe('interactions (issue #11)', () => {
    const waiting = (idHash: string, over: Partial<Parameters<typeof storage.interactions.create>[0]> = {}) => ({
      idHash,
      browserHash: 'b1',
      clientId: 'c1',
      request: 'response_type=code&client_id=c1',
      returnTo: null,
      sessionSubject: null,
      loginRequestedAt: T0,
      createdAt: T0,
      expiresAt: T0 + 600_000,
      ...over,
    });

    it('round-trips; decided once, consumed once, nothing once expired', async () => {
      await storage.clients.create(aClient('c1'), T0);
      await storage.interactions.create(waiting('i1', { sessionSubject: 'u9' }));
      await storage.interactions.create(waiting('plain', { clientId: null, request: '', returnTo: '/developers' }));
      expect(await storage.interactions.byHash('i1')).toEqual({ ...waiting('i1', { sessionSubject: 'u9' }), result: null, decidedAt: null, consumedAt: null });
      expect(await storage.interactions.byHash('plain')).toMatchObject({ clientId: null, returnTo: '/developers' });
      expect(await storage.interactions.byHash('nope')).toBeNull();

      expect(await storage.interactions.decide('i1', '{"a":1}', T0 + 1)).toBe(true);
      expect(await storage.interactions.decide('i1', '{"a":2}', T0 + 2)).toBe(false);
      expect(await storage.interactions.byHash('i1')).toMatchObject({ result: '{"a":1}', decidedAt: T0 + 1 });
      expect(await storage.interactions.consume('i1', T0 + 3)).toBe(true);
      expect(await storage.interactions.consume('i1', T0 + 4)).toBe(false);
      // Expired: neither decided nor consumed.
      expect(await storage.interactions.decide('plain', '{}', T0 + 600_000)).toBe(false);
      expect(await storage.interactions.consume('plain', T0 + 600_000)).toBe(false);
      // A consumed one cannot be decided either.
      await storage.interactions.create(waiting('i2'));
      expect(await storage.interactions.consume('i2', T0 + 1)).toBe(true);
      expect(await storage.interactions.decide('i2', '{}', T0 + 2)).toBe(false);
    });

    it('parallel answers: exactly one wins', async () => {
      await storage.clients.create(aClient('c1'), T0);
      await storage.interactions.create(waiting('race'));
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => storage.interactions.decide('race', `{"n":${i}}`, T0 + 1)));
      expect(results.filter((won) => won)).toHaveLength(1);
      const uses = await Promise.all(Array.from({ length: 10 }, () => storage.interactions.consume('race', T0 + 2)));
      expect(uses.filter((won) => won)).toHaveLength(1);
    });

    it('purgeExpired removes expired ones; deleting the client removes its waiting sign-ins', async () => {
      await storage.clients.create(aClient('c1'), T0);
      await storage.interactions.create(waiting('old', { expiresAt: T0 - 1 }));
      await storage.interactions.create(waiting('live'));
      expect(await storage.interactions.purgeExpired(T0)).toBe(1);
      expect(await storage.interactions.byHash('live')).not.toBeNull();
      await storage.clients.delete('c1');
      expect(await storage.interactions.byHash('live')).toBeNull();
    });
  });

  describe('sessions', () => {
    it('create, byHash, delete, deleteByUser, purgeExpired', async () => {
      const s1 = { idHash: 's1', userId: 'u1', expiresAt: T0 + 1000, createdAt: T0 };
      await storage.sessions.create(s1);
      await storage.sessions.create({ idHash: 's2', userId: 'u1', expiresAt: T0 + 1000, createdAt: T0 });
      await storage.sessions.create({ idHash: 's3', userId: 'u2', expiresAt: T0 + 1000, createdAt: T0 });
      expect(await storage.sessions.byHash('s1')).toEqual({ ...s1, authTime: T0, amr: null, acr: null, kind: 'builtin', endedAt: null });
      expect(await storage.sessions.byHash('missing')).toBeNull();

      expect(await storage.sessions.delete('s1')).toBe(true);
      expect(await storage.sessions.byHash('s1')).toBeNull();
      expect(await storage.sessions.delete('s1')).toBe(false);

      // the deleted sessions' hashes come back (for their sid), and only this person's
      expect(await storage.sessions.deleteByUser('u1')).toEqual(['s2']);
      expect(await storage.sessions.deleteByUser('u1')).toEqual([]);
      expect(await storage.sessions.byHash('s2')).toBeNull();
      expect(await storage.sessions.byHash('s3')).not.toBeNull();

      await storage.sessions.create({ idHash: 'old', userId: 'u1', expiresAt: T0 - 1, createdAt: T0 - 10 });
      await storage.sessions.create({ idHash: 'edge', userId: 'u1', expiresAt: T0, createdAt: T0 - 10 });
      expect(await storage.sessions.purgeExpired(T0)).toBe(1);
      expect(await storage.sessions.byHash('old')).toBeNull();
      expect(await storage.sessions.byHash('edge')).not.toBeNull();
      expect(await storage.sessions.purgeExpired(T0 + 1001)).toBe(2);
    });

    it('issue #11: a session keeps how and when the person signed in; end() marks it ended once', async () => {
      await storage.sessions.create({ idHash: 'h1', userId: 'u1', expiresAt: T0 + 1000, createdAt: T0, authTime: T0 - 50, amr: ['pwd', 'otp'], acr: 'urn:x:2fa', kind: 'delegated' });
      expect(await storage.sessions.byHash('h1')).toEqual({
        idHash: 'h1', userId: 'u1', expiresAt: T0 + 1000, createdAt: T0, authTime: T0 - 50, amr: ['pwd', 'otp'], acr: 'urn:x:2fa', kind: 'delegated', endedAt: null,
      });
      expect(await storage.sessions.end('h1', T0 + 5)).toBe(true);
      expect((await storage.sessions.byHash('h1'))?.endedAt).toBe(T0 + 5);
      // Ending again keeps the first time; an unknown session is reported as such.
      expect(await storage.sessions.end('h1', T0 + 9)).toBe(true);
      expect((await storage.sessions.byHash('h1'))?.endedAt).toBe(T0 + 5);
      expect(await storage.sessions.end('nope', T0)).toBe(false);
    });
  });

  describe('signing keys', () => {
    beforeEach(async () => {
      await storage.keys.insert(aKey('k1', { createdAt: 3000 }));
      await storage.keys.insert(aKey('k2', { createdAt: 2000, retiredAt: 2500, expiresAt: 10_000 }));
      await storage.keys.insert(aKey('k3', { createdAt: 2500, retiredAt: 2600, expiresAt: 5000 }));
      await storage.keys.insert(aKey('k4', { createdAt: 1000 }));
      await storage.keys.insert(aKey('k5', { createdAt: 1500, retiredAt: 1600, expiresAt: 6000 }));
    });

    it('round-trips a key', async () => {
      const all = await storage.keys.listAll();
      expect(all.find((k) => k.kid === 'k2')).toEqual(aKey('k2', { createdAt: 2000, retiredAt: 2500, expiresAt: 10_000 }));
    });

    it('listPublished: unexpired only (expiry must be after now), active first, newest first', async () => {
      expect((await storage.keys.listPublished(6000)).map((k) => k.kid)).toEqual(['k1', 'k4', 'k2']);
      expect((await storage.keys.listPublished(4999)).map((k) => k.kid)).toEqual(['k1', 'k4', 'k3', 'k2', 'k5']);
      expect((await storage.keys.listPublished(20_000)).map((k) => k.kid)).toEqual(['k1', 'k4']);
    });

    it('listAll: every key, newest first', async () => {
      expect((await storage.keys.listAll()).map((k) => k.kid)).toEqual(['k1', 'k3', 'k2', 'k5', 'k4']);
    });

    it('retireAllExcept retires only the other active keys', async () => {
      await storage.keys.retireAllExcept('k1', 7000, 9000);
      const byKid = new Map((await storage.keys.listAll()).map((k) => [k.kid, k]));
      expect(byKid.get('k1')).toMatchObject({ retiredAt: null, expiresAt: null });
      expect(byKid.get('k4')).toMatchObject({ retiredAt: 7000, expiresAt: 9000 });
      expect(byKid.get('k2')).toMatchObject({ retiredAt: 2500, expiresAt: 10_000 });
      expect((await storage.keys.listPublished(7000)).map((k) => k.kid)).toEqual(['k1', 'k2', 'k4']);
    });

    it('retireAllExcept with an algorithm retires only that algorithm\'s other active keys (one current key per algorithm)', async () => {
      await storage.keys.insert(aKey('r1', { alg: 'RS256', createdAt: 3500 }));
      await storage.keys.insert(aKey('r2', { alg: 'RS256', createdAt: 3600 }));
      await storage.keys.retireAllExcept('r2', 7000, 9000, 'RS256');
      const byKid = new Map((await storage.keys.listAll()).map((k) => [k.kid, k]));
      expect(byKid.get('r2')).toMatchObject({ retiredAt: null });
      expect(byKid.get('r1')).toMatchObject({ retiredAt: 7000, expiresAt: 9000 });
      // The ES256 keys are untouched.
      expect(byKid.get('k1')).toMatchObject({ retiredAt: null, expiresAt: null });
      expect(byKid.get('k4')).toMatchObject({ retiredAt: null, expiresAt: null });
    });
  });

  describe('OpenID Connect grants (0009)', () => {
    const grant = (familyId: string, createdAt = T0) => ({
      familyId, clientId: 'c1', userId: 'u1', nonce: 'n-1', authTime: T0 - 5000, amr: ['pwd', 'otp'], acr: 'urn:x:2fa', sid: 'sid-1', idTokenClaims: ['email', 'name'], createdAt,
    });

    it('create and byFamily round-trip every field; a second row for the same family is refused', async () => {
      await seedUserAndClient();
      await storage.oidcGrants.create(grant('f1'));
      await storage.oidcGrants.create({ ...grant('f2'), nonce: null, amr: null, acr: null, sid: null, idTokenClaims: null });
      expect(await storage.oidcGrants.byFamily('f1')).toEqual(grant('f1'));
      expect(await storage.oidcGrants.byFamily('f2')).toEqual({ ...grant('f2'), nonce: null, amr: null, acr: null, sid: null, idTokenClaims: null });
      expect(await storage.oidcGrants.byFamily('nope')).toBeNull();
      await expect(storage.oidcGrants.create(grant('f1'))).rejects.toThrow();
    });

    it('purgeOrphans deletes only old rows whose family has no token left, oldest first, at most `limit`', async () => {
      await seedUserAndClient();
      await storage.oidcGrants.create(grant('old-orphan-1', T0));
      await storage.oidcGrants.create(grant('old-orphan-2', T0 + 1));
      await storage.oidcGrants.create(grant('old-live', T0 + 2));
      await storage.oidcGrants.create(grant('young-orphan', T0 + 10_000));
      await storage.tokens.insertMany([aToken('t-live', { familyId: 'old-live' })]);
      expect(await storage.oidcGrants.purgeOrphans(T0 + 5000, 1)).toBe(1);
      expect(await storage.oidcGrants.byFamily('old-orphan-1')).toBeNull();
      expect(await storage.oidcGrants.purgeOrphans(T0 + 5000, 100)).toBe(1);
      expect(await storage.oidcGrants.byFamily('old-orphan-2')).toBeNull();
      expect(await storage.oidcGrants.byFamily('old-live')).not.toBeNull();
      expect(await storage.oidcGrants.byFamily('young-orphan')).not.toBeNull();
      expect(await storage.oidcGrants.purgeOrphans(T0 + 5000, 100)).toBe(0);
    });

    it('0011 bySid: the grants of one session, newest first, at most `limit`', async () => {
      await seedUserAndClient();
      await storage.oidcGrants.create(grant('a', T0));
      await storage.oidcGrants.create(grant('b', T0 + 2));
      await storage.oidcGrants.create(grant('c', T0 + 1));
      await storage.oidcGrants.create({ ...grant('other'), sid: 'sid-2' });
      await storage.oidcGrants.create({ ...grant('none'), sid: null });
      expect((await storage.oidcGrants.bySid('sid-1', 10)).map((g) => g.familyId)).toEqual(['b', 'c', 'a']);
      expect((await storage.oidcGrants.bySid('sid-1', 2)).map((g) => g.familyId)).toEqual(['b', 'c']);
      expect(await storage.oidcGrants.bySid('sid-2', 10)).toEqual([{ ...grant('other'), sid: 'sid-2' }]);
      expect(await storage.oidcGrants.bySid('nope', 10)).toEqual([]);
    });

    it('rows go with their application', async () => {
      await seedUserAndClient();
      await storage.oidcGrants.create(grant('f1'));
      expect(await storage.clients.delete('c1')).toBe(true);
      expect(await storage.oidcGrants.byFamily('f1')).toBeNull();
    });
  });

  describe('device codes (0013, RFC 8628)', () => {
    const row = (id: string, overrides: Record<string, unknown> = {}) => ({
      deviceCodeHash: `dev-${id}`,
      userCodeHash: `user-${id}`,
      clientId: 'c1',
      scope: 'read openid',
      audience: 'https://api.example',
      interval: 5,
      createdAt: T0,
      expiresAt: T0 + 600_000,
      ...overrides,
    });
    const signIn = { authTime: T0 - 1000, amr: ['pwd'], acr: null, sid: 'sid-9' };

    it('create, then read back by either code; a user code in use is refused', async () => {
      await seedUserAndClient();
      await storage.deviceCodes.create(row('a'));
      const expected = { ...row('a'), lastPolledAt: null, status: 'pending', userId: null, decidedAt: null, grantedScope: null, familyId: null, signIn: null };
      expect(await storage.deviceCodes.byDeviceCode('dev-a')).toEqual(expected);
      expect(await storage.deviceCodes.byUserCode('user-a')).toEqual(expected);
      expect(await storage.deviceCodes.byDeviceCode('nope')).toBeNull();
      await expect(storage.deviceCodes.create(row('b', { userCodeHash: 'user-a' }))).rejects.toThrow();
    });

    it('poll: a poll sooner than the interval answers slow down and adds 5 s; one after it does not', async () => {
      await seedUserAndClient();
      await storage.deviceCodes.create(row('a'));
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 1000)).toMatchObject({ slowDown: false, row: { interval: 5, lastPolledAt: T0 + 1000 } });
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 5999)).toMatchObject({ slowDown: true, row: { interval: 10, lastPolledAt: T0 + 5999 } });
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 15_999)).toMatchObject({ slowDown: false, row: { interval: 10 } });
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 16_000)).toMatchObject({ slowDown: true, row: { interval: 15 } });
      // Only the request's own client, and only before it expires; an unknown code is nothing.
      expect(await storage.deviceCodes.poll('dev-a', 'c2', T0 + 40_000)).toBeNull();
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 600_000)).toBeNull();
      expect(await storage.deviceCodes.byDeviceCode('dev-a')).toMatchObject({ interval: 15, lastPolledAt: T0 + 16_000 });
      expect(await storage.deviceCodes.poll('nope', 'c1', T0)).toBeNull();
    });

    it('approve or deny once, only while pending and unexpired; a decided request is not polled', async () => {
      await seedUserAndClient();
      await storage.deviceCodes.create(row('a'));
      await storage.deviceCodes.create(row('b'));
      await storage.deviceCodes.create(row('c', { expiresAt: T0 + 10 }));
      const decision = { userId: 'u1', grantedScope: 'read', familyId: 'fam-a', signIn };
      expect(await storage.deviceCodes.approve('user-a', decision, T0 + 100)).toBe(true);
      expect(await storage.deviceCodes.approve('user-a', decision, T0 + 200)).toBe(false);
      expect(await storage.deviceCodes.deny('user-a', 'u1', T0 + 200)).toBe(false);
      expect(await storage.deviceCodes.byDeviceCode('dev-a')).toMatchObject({ status: 'approved', userId: 'u1', decidedAt: T0 + 100, grantedScope: 'read', familyId: 'fam-a', signIn });
      expect(await storage.deviceCodes.poll('dev-a', 'c1', T0 + 300)).toBeNull();
      expect(await storage.deviceCodes.deny('user-b', 'u1', T0 + 100)).toBe(true);
      expect(await storage.deviceCodes.byDeviceCode('dev-b')).toMatchObject({ status: 'denied', userId: 'u1', decidedAt: T0 + 100, familyId: null });
      expect(await storage.deviceCodes.approve('user-c', decision, T0 + 10)).toBe(false);
      expect(await storage.deviceCodes.deny('user-c', 'u1', T0 + 10)).toBe(false);
    });

    it('redeem: only an approved, unexpired request, once; 20 concurrent redemptions have one winner', async () => {
      await seedUserAndClient();
      await storage.deviceCodes.create(row('a'));
      expect(await storage.deviceCodes.redeem('dev-a', T0 + 100)).toBe(false);
      await storage.deviceCodes.approve('user-a', { userId: 'u1', grantedScope: 'read', familyId: 'fam-a', signIn }, T0 + 100);
      const results = await Promise.all(Array.from({ length: 20 }, () => storage.deviceCodes.redeem('dev-a', T0 + 200)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await storage.deviceCodes.byDeviceCode('dev-a'))?.status).toBe('redeemed');
      await storage.deviceCodes.create(row('late', { expiresAt: T0 + 300 }));
      await storage.deviceCodes.approve('user-late', { userId: 'u1', grantedScope: 'read', familyId: 'fam-l', signIn }, T0 + 100);
      expect(await storage.deviceCodes.redeem('dev-late', T0 + 300)).toBe(false);
    });

    it('redeemed in a transaction with its tokens: a rollback undoes both', async () => {
      await seedUserAndClient();
      await storage.deviceCodes.create(row('a'));
      await storage.deviceCodes.approve('user-a', { userId: 'u1', grantedScope: 'read', familyId: 'fam-a', signIn }, T0 + 100);
      await expect(
        storage.transaction(async (tx) => {
          expect(await tx.deviceCodes.redeem('dev-a', T0 + 200)).toBe(true);
          await tx.tokens.insertMany([aToken('t-dev', { familyId: 'fam-a' })]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect((await storage.deviceCodes.byDeviceCode('dev-a'))?.status).toBe('approved');
      expect(await storage.tokens.byHash('t-dev')).toBeNull();
    });

    it('purgeExpired removes expired requests only; rows go with their application', async () => {
      await seedUserAndClient();
      await storage.users.create(aUser('u2'));
      await storage.clients.create(aClient('c2'), T0);
      await storage.deviceCodes.create(row('old', { expiresAt: T0 - 1 }));
      await storage.deviceCodes.create(row('live'));
      await storage.deviceCodes.create(row('of-c2', { clientId: 'c2' }));
      await storage.deviceCodes.create(row('of-u2'));
      await storage.deviceCodes.deny('user-of-u2', 'u2', T0);
      expect(await storage.deviceCodes.purgeExpired(T0)).toBe(1);
      expect(await storage.deviceCodes.byDeviceCode('dev-old')).toBeNull();
      await storage.clients.delete('c2');
      expect(await storage.deviceCodes.byDeviceCode('dev-of-c2')).toBeNull();
      expect(await storage.deviceCodes.byDeviceCode('dev-live')).not.toBeNull();
      expect(await storage.deviceCodes.byDeviceCode('dev-of-u2')).toMatchObject({ status: 'denied', userId: 'u2' });
    });
  });

  describe('signing keys: currentKid', () => {
    it('is the newest active key, null when none', async () => {
      expect(await storage.keys.currentKid()).toBeNull();
      const key = (kid: string, createdAt: number) => ({ kid, alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt, retiredAt: null, expiresAt: null });
      await storage.keys.insert(key('k1', T0));
      expect(await storage.keys.currentKid()).toBe('k1');
      await storage.keys.insert(key('k2', T0 + 1));
      await storage.keys.retireAllExcept('k2', T0 + 2, T0 + 1000);
      expect(await storage.keys.currentKid()).toBe('k2');
    });
  });

  describe('scopes', () => {
    it('upsert inserts then updates (keeping createdAt); byName, list, delete', async () => {
      await storage.scopes.upsert({ name: 'write', description: 'Write', resourceServer: null, isDefault: false, createdAt: T0 });
      await storage.scopes.upsert({ name: 'read', description: 'Read', resourceServer: 'https://api', isDefault: true, createdAt: T0 });
      expect(await storage.scopes.byName('read')).toEqual({
        name: 'read',
        description: 'Read',
        resourceServer: 'https://api',
        isDefault: true,
        createdAt: T0,
        descriptions: {},
      });
      await storage.scopes.upsert({ name: 'read', description: 'Read all', resourceServer: null, isDefault: false, createdAt: T0 + 99 });
      expect(await storage.scopes.byName('read')).toEqual({
        name: 'read',
        description: 'Read all',
        resourceServer: null,
        isDefault: false,
        createdAt: T0,
        descriptions: {},
      });
      expect(await storage.scopes.byName('missing')).toBeNull();
      expect((await storage.scopes.list()).map((s) => s.name)).toEqual(['read', 'write']);
      expect(await storage.scopes.delete('read')).toBe(true);
      expect(await storage.scopes.delete('read')).toBe(false);
      expect((await storage.scopes.list()).map((s) => s.name)).toEqual(['write']);
    });

    it('keeps descriptions per locale (0012): given ones replace, omitted ones are kept, empty clears', async () => {
      const base = { name: 'read', description: 'Read', resourceServer: null, isDefault: false, createdAt: T0 };
      await storage.scopes.upsert({ ...base, descriptions: { fr: 'Lire « tout » <b>', de: 'Lesen' } });
      expect((await storage.scopes.byName('read'))?.descriptions).toEqual({ de: 'Lesen', fr: 'Lire « tout » <b>' });
      expect((await storage.scopes.list())[0]?.descriptions).toEqual({ de: 'Lesen', fr: 'Lire « tout » <b>' });
      await storage.scopes.upsert({ ...base, description: 'Read it' });
      expect(await storage.scopes.byName('read')).toMatchObject({ description: 'Read it', descriptions: { de: 'Lesen', fr: 'Lire « tout » <b>' } });
      await storage.scopes.upsert({ ...base, descriptions: { it: 'Leggere' } });
      expect((await storage.scopes.byName('read'))?.descriptions).toEqual({ it: 'Leggere' });
      await storage.scopes.upsert({ ...base, descriptions: {} });
      expect((await storage.scopes.byName('read'))?.descriptions).toEqual({});
    });
  });

  describe('resource servers', () => {
    it('create, byIdentifier, list, delete', async () => {
      await storage.resourceServers.create({ identifier: 'https://b.example', name: 'B', createdAt: T0, introspectors: null });
      await storage.resourceServers.create({ identifier: 'https://a.example', name: 'A', createdAt: T0 + 1, introspectors: null });
      expect(await storage.resourceServers.byIdentifier('https://b.example')).toEqual({
        identifier: 'https://b.example',
        name: 'B',
        createdAt: T0,
        introspectors: null,
      });
      expect(await storage.resourceServers.byIdentifier('https://c.example')).toBeNull();
      expect((await storage.resourceServers.list()).map((r) => r.identifier)).toEqual([
        'https://a.example',
        'https://b.example',
      ]);
      await expect(
        storage.resourceServers.create({ identifier: 'https://a.example', name: 'dup', createdAt: T0, introspectors: null }),
      ).rejects.toThrow();
      expect(await storage.resourceServers.delete('https://a.example')).toBe(true);
      expect(await storage.resourceServers.delete('https://a.example')).toBe(false);
      // Issue #15 §6: the applications allowed to introspect for it.
      expect(await storage.resourceServers.setIntrospectors('https://b.example', ['c1', 'c2'])).toBe(true);
      expect((await storage.resourceServers.byIdentifier('https://b.example'))?.introspectors).toEqual(['c1', 'c2']);
      expect(await storage.resourceServers.setIntrospectors('https://b.example', [])).toBe(true);
      expect((await storage.resourceServers.byIdentifier('https://b.example'))?.introspectors).toEqual([]);
      expect(await storage.resourceServers.setIntrospectors('https://nope.example', [])).toBe(false);
      expect((await storage.resourceServers.list()).map((r) => r.identifier)).toEqual(['https://b.example']);
    });
  });

  describe('audit', () => {
    it('appends and lists newest first with numeric ids and round-tripped details', async () => {
      await storage.audit.append({ at: T0, type: 'login', actorUserId: 'u1', clientId: null, ip: '10.0.0.1', details: {} });
      await storage.audit.append({
        at: T0 + 2,
        type: 'client.update',
        actorUserId: 'u1',
        clientId: 'c1',
        ip: null,
        details: { changed: ['name'], nested: { n: 1, ok: true } },
      });
      await storage.audit.append({ at: T0 + 1, type: 'login', actorUserId: 'u2', clientId: 'c1', ip: null, details: { a: 1 } });
      const events = await storage.audit.list();
      expect(events.map((e) => e.at)).toEqual([T0 + 2, T0 + 1, T0]);
      expect(events[0]).toEqual({
        id: expect.any(Number),
        at: T0 + 2,
        type: 'client.update',
        actorUserId: 'u1',
        clientId: 'c1',
        ip: null,
        details: { changed: ['name'], nested: { n: 1, ok: true } },
      });
      expect(events[2]).toMatchObject({ type: 'login', ip: '10.0.0.1', details: {} });
      const ids = events.map((e) => e.id);
      expect(new Set(ids).size).toBe(3);
      expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
    });

    it('filters by type, client, actor, since (inclusive) and limit', async () => {
      const base = { actorUserId: null, clientId: null, ip: null, details: {} };
      await storage.audit.append({ ...base, at: T0, type: 'a', clientId: 'c1', actorUserId: 'u1' });
      await storage.audit.append({ ...base, at: T0 + 1, type: 'b', clientId: 'c1' });
      await storage.audit.append({ ...base, at: T0 + 2, type: 'a', clientId: 'c2', actorUserId: 'u1' });
      await storage.audit.append({ ...base, at: T0 + 3, type: 'a' });
      const ats = async (filter: Parameters<Storage['audit']['list']>[0]): Promise<number[]> =>
        (await storage.audit.list(filter)).map((e) => e.at - T0);
      expect(await ats({ type: 'a' })).toEqual([3, 2, 0]);
      expect(await ats({ clientId: 'c1' })).toEqual([1, 0]);
      expect(await ats({ actorUserId: 'u1' })).toEqual([2, 0]);
      expect(await ats({ since: T0 + 2 })).toEqual([3, 2]);
      expect(await ats({ type: 'a', since: T0 + 1, actorUserId: 'u1' })).toEqual([2]);
      expect(await ats({ limit: 2 })).toEqual([3, 2]);
      expect(await ats({ type: 'zzz' })).toEqual([]);
    });

    it('pages newest first with a (at, id) cursor and counts events per UTC day (issue #15 §12)', async () => {
      const base = { actorUserId: null, clientId: null, ip: null, details: {} };
      await storage.audit.append({ ...base, at: T0, type: 'login' });
      await storage.audit.append({ ...base, at: T0, type: 'login' });
      await storage.audit.append({ ...base, at: T0 + DAY, type: 'login' });
      await storage.audit.append({ ...base, at: T0 + DAY, type: 'token' });
      await storage.audit.append({ ...base, at: T0 + 2 * DAY, type: 'other' });
      const all = await storage.audit.list();
      const first = await storage.audit.list({ limit: 2 });
      expect(first.map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
      const last = first[1];
      if (!last) throw new Error('no event');
      const rest = await storage.audit.list({ before: { at: last.at, id: last.id }, limit: 10 });
      expect(rest.map((e) => e.id)).toEqual(all.slice(2).map((e) => e.id));
      // Two events at the same instant are told apart by id, so none is skipped or repeated.
      expect(rest.at(-1)?.at).toBe(T0);
      expect(rest.slice(-2).map((e) => e.at)).toEqual([T0, T0]);
      const counts = await storage.audit.countPerDay(T0 - DAY, ['login', 'token']);
      const sorted = [...counts].sort((a, b) => `${a.day}${a.type}`.localeCompare(`${b.day}${b.type}`));
      expect(sorted).toEqual([
        { type: 'login', day: '2024-01-15', count: 2 },
        { type: 'login', day: '2024-01-16', count: 1 },
        { type: 'token', day: '2024-01-16', count: 1 },
      ]);
      expect(await storage.audit.countPerDay(T0 + DAY, ['login'])).toEqual([{ type: 'login', day: '2024-01-16', count: 1 }]);
      expect(await storage.audit.countPerDay(T0, [])).toEqual([]);
    });

    it('defaults to the newest 100 events', async () => {
      await storage.transaction(async (tx) => {
        for (let i = 0; i < 105; i++) {
          await tx.audit.append({ at: T0 + i, type: 't', actorUserId: null, clientId: null, ip: null, details: { i } });
        }
      });
      const events = await storage.audit.list();
      expect(events).toHaveLength(100);
      expect(events[0]?.details).toEqual({ i: 104 });
      expect(events[99]?.details).toEqual({ i: 5 });
      expect(await storage.audit.list({ limit: 500 })).toHaveLength(105);
    });
  });

  describe('hot path: caches and group commit (issue #5)', () => {
    it('a client changed or deleted through another handle is seen on the very next read', async () => {
      await seedUserAndClient();
      const other = await harness.second();
      expect((await storage.clients.byId('c1'))?.active).toBe(true); // now cached
      await other.clients.update('c1', { active: false }, T0 + 1);
      expect((await storage.clients.byId('c1'))?.active).toBe(false);
      await other.clients.update('c1', { secretHash: 'rotated' }, T0 + 2);
      expect((await storage.clients.byId('c1'))?.secretHash).toBe('rotated');
      await other.tokens.insert(aToken('t-other')); // unrelated writes keep the cache valid
      expect((await storage.clients.byId('c1'))?.secretHash).toBe('rotated');
      await other.clients.delete('c1');
      expect(await storage.clients.byId('c1')).toBeNull();
      await other.clients.create(aClient('c1', { name: 'Reborn' }), T0 + 3);
      expect((await storage.clients.byId('c1'))?.name).toBe('Reborn');
    });

    it('scopes, resource servers and the current signing kid changed elsewhere are seen at once', async () => {
      const other = await harness.second();
      await storage.scopes.upsert({ name: 'read', description: 'Read', resourceServer: null, isDefault: false, createdAt: T0 });
      expect((await storage.scopes.byName('read'))?.description).toBe('Read');
      await other.scopes.upsert({ name: 'read', description: 'Read it all', resourceServer: null, isDefault: false, createdAt: T0 });
      expect((await storage.scopes.byName('read'))?.description).toBe('Read it all');
      await other.scopes.delete('read');
      expect(await storage.scopes.byName('read')).toBeNull();

      expect(await storage.resourceServers.byIdentifier('https://api.example')).toBeNull();
      await other.resourceServers.create({ identifier: 'https://api.example', name: 'API', createdAt: T0, introspectors: null });
      expect((await storage.resourceServers.byIdentifier('https://api.example'))?.name).toBe('API');
      await other.resourceServers.delete('https://api.example');
      expect(await storage.resourceServers.byIdentifier('https://api.example')).toBeNull();

      expect(await storage.keys.currentKid()).toBeNull(); // null is cached too
      await other.keys.insert(aKey('k1'));
      expect(await storage.keys.currentKid()).toBe('k1');
      await other.keys.insert(aKey('k2', { createdAt: T0 + 1 }));
      await other.keys.retireAllExcept('k2', T0 + 2, T0 + DAY);
      expect(await storage.keys.currentKid()).toBe('k2');
    });

    it('a user disabled or made admin through another handle is seen at once; sign-in bookkeeping is not cached', async () => {
      await storage.users.create(aUser('u1'));
      const other = await harness.second();
      expect(await storage.users.account('u1')).toEqual({ id: 'u1', email: 'u1@example.com', isAdmin: false, disabled: false, external: false, profile: null });
      await other.users.update('u1', { disabled: true });
      expect((await storage.users.account('u1'))?.disabled).toBe(true);
      await other.users.update('u1', { isAdmin: true });
      expect((await storage.users.account('u1'))?.isAdmin).toBe(true);
      expect(await other.users.recordLoginFailure('u1', T0)).toBe(1);
      expect((await storage.users.byId('u1'))?.failedLogins).toBe(1); // byId is never cached
      await other.users.update('u1', { disabled: false });
      expect((await storage.users.account('u1'))?.disabled).toBe(false);
    });

    it('an access token revoked, and a refresh token consumed, through another handle are seen at once', async () => {
      await seedUserAndClient();
      const other = await harness.second();
      await storage.tokens.insertMany([aToken('acc'), aToken('ref', { kind: 'refresh' }), aToken('acc2')]);
      expect((await storage.tokens.byHash('acc'))?.revokedAt).toBeNull(); // cached now
      expect((await storage.tokens.byHash('ref'))?.consumedAt).toBeNull();
      await other.tokens.revoke('acc', T0 + 1);
      expect((await storage.tokens.byHash('acc'))?.revokedAt).toBe(T0 + 1);
      expect(await consume('refresh', 'ref', T0 + 2, other)).toBe(true);
      expect((await storage.tokens.byHash('ref'))?.consumedAt).toBe(T0 + 2);
      expect((await storage.tokens.byHash('acc2'))?.revokedAt).toBeNull();
      await other.tokens.revokeByUserAndClient('u1', 'c1', T0 + 3);
      expect((await storage.tokens.byHash('acc2'))?.revokedAt).toBe(T0 + 3);
      expect(await other.tokens.purgeExpired(T0 + 4)).toBe(3);
      expect(await storage.tokens.byHash('acc2')).toBeNull();
    });

    it('with arrival marks, one epoch read serves until the next arrival; own writes and commits are seen at once', async () => {
      // The HTTP server calls markArrival as each request arrives (app.ts); the epoch read is then
      // shared until the next arrival, so another handle's change is guaranteed only after one.
      await seedUserAndClient();
      const other = await harness.second();
      storage.markArrival?.();
      expect((await storage.clients.byId('c1'))?.name).toBe('App c1');
      // Own writes through the root handle touch the memo: read back at once, no arrival needed.
      await storage.clients.update('c1', { name: 'Own write' }, T0 + 1);
      expect((await storage.clients.byId('c1'))?.name).toBe('Own write');
      // So does the end of a transaction (its writes became visible at the commit).
      await storage.transaction(async (tx) => {
        await tx.clients.update('c1', { name: 'In a transaction' }, T0 + 2);
        // PostgreSQL: a concurrent request reads meanwhile, on another pooled connection, and
        // sees the committed row. (On SQLite's one connection such a read waits for the commit.)
        if (storage.dialect === 'postgres') expect((await storage.clients.byId('c1'))?.name).toBe('Own write');
      });
      expect((await storage.clients.byId('c1'))?.name).toBe('In a transaction');
      // Another process's change: seen by every request that arrives after it.
      await other.clients.update('c1', { active: false }, T0 + 3);
      storage.markArrival?.();
      expect((await storage.clients.byId('c1'))?.active).toBe(false);
    });

    it('a change made inside a transaction of this handle is seen once it commits, not before a rollback', async () => {
      await seedUserAndClient();
      expect((await storage.clients.byId('c1'))?.active).toBe(true);
      await expect(
        storage.transaction(async (tx) => {
          await tx.clients.update('c1', { active: false }, T0 + 1);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await storage.clients.byId('c1'))?.active).toBe(true);
      await storage.transaction(async (tx) => {
        await tx.clients.update('c1', { active: false }, T0 + 1);
      });
      expect((await storage.clients.byId('c1'))?.active).toBe(false);
    });

    it('200 concurrent inserts are all committed, and each caller resolves only once its row is readable elsewhere', async () => {
      await seedUserAndClient();
      const other = await harness.second();
      const seen: boolean[] = [];
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          await storage.tokens.insertMany([aToken(`g-${i}`), aToken(`g-${i}-r`, { kind: 'refresh' })]);
          seen.push((await other.tokens.byHash(`g-${i}`)) !== null && (await other.tokens.byHash(`g-${i}-r`)) !== null);
        }),
      );
      expect(seen).toHaveLength(200);
      expect(seen.every(Boolean)).toBe(true);
    });

    it('one bad insert in a batch fails only its own caller', async () => {
      await seedUserAndClient();
      const results = await Promise.allSettled([
        storage.tokens.insert(aToken('ok-1')),
        storage.tokens.insertMany([aToken('bad-1'), aToken('bad-2', { clientId: 'no-such-client' })]),
        storage.tokens.insert(aToken('ok-2')),
        storage.tokens.insert(aToken('ok-1')), // duplicate key
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
      expect(await storage.tokens.byHash('ok-1')).not.toBeNull();
      expect(await storage.tokens.byHash('ok-2')).not.toBeNull();
      // all or nothing per caller: the good half of the bad call was not kept
      expect(await storage.tokens.byHash('bad-1')).toBeNull();
    });

    it('a token inserted inside an open transaction is not visible outside it until commit', async () => {
      await seedUserAndClient();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const insertedP = new Promise<void>((resolve) => (inserted = resolve));
      const tx = storage.transaction(async (t) => {
        await t.tokens.insert(aToken('in-tx'));
        inserted();
        await gate;
      });
      await insertedP;
      const during = storage.tokens.byHash('in-tx');
      const usersDuring = storage.users.byId('u1');
      release();
      await tx;
      // On SQLite's single connection the read waits for the commit; on PostgreSQL it may run
      // before it: either way it never sees a row that could still roll back.
      const row = await during;
      expect(row === null || row.tokenHash === 'in-tx').toBe(true);
      expect((await usersDuring)?.id).toBe('u1');
      expect((await storage.tokens.byHash('in-tx'))?.tokenHash).toBe('in-tx');
    });
  });

  describe('transactions', () => {
    it('commits and returns the callback result; the tx sees its own writes', async () => {
      const result = await storage.transaction(async (tx) => {
        expect(tx.dialect).toBe(expectedDialect);
        await tx.users.create(aUser('u1'));
        await tx.clients.create(aClient('c1'), T0);
        await tx.tokens.insert(aToken('t1'));
        expect((await tx.clients.byId('c1'))?.clientId).toBe('c1');
        return 42;
      });
      expect(result).toBe(42);
      expect(await storage.users.byId('u1')).not.toBeNull();
      expect(await storage.tokens.byHash('t1')).not.toBeNull();
    });

    it('rolls everything back when the callback throws', async () => {
      await storage.clients.create(aClient('c0', { scopes: ['a'] }), T0);
      const boom = new Error('boom');
      await expect(
        storage.transaction(async (tx) => {
          await tx.users.create(aUser('u1'));
          await tx.clients.create(aClient('c1'), T0);
          await tx.tokens.insert(aToken('t1'));
          await tx.codes.create(aCode('code1'));
          const updated = await tx.clients.update('c0', { scopes: ['a', 'b'], name: 'Changed' }, T0 + 1);
          expect(updated?.scopesVersion).toBe(2);
          await tx.audit.append({ at: T0, type: 'x', actorUserId: null, clientId: null, ip: null, details: {} });
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await storage.users.byId('u1')).toBeNull();
      expect(await storage.clients.byId('c1')).toBeNull();
      expect(await storage.tokens.byHash('t1')).toBeNull();
      expect(await storage.codes.byHash('code1')).toBeNull();
      expect(await storage.audit.list()).toEqual([]);
      expect(await storage.clients.byId('c0')).toMatchObject({ name: 'App c0', scopes: ['a'], scopesVersion: 1 });
    });

    it('rolls back when a statement inside fails', async () => {
      await storage.users.create(aUser('u1'));
      await expect(
        storage.transaction(async (tx) => {
          await tx.sessions.create({ idHash: 's1', userId: 'u1', expiresAt: T0, createdAt: T0 });
          await tx.users.create(aUser('u1'));
        }),
      ).rejects.toThrow();
      expect(await storage.sessions.byHash('s1')).toBeNull();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

describe('storage contract: SQLite', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-storage-'));
  let n = 0;
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  storageContract('sqlite', async () => {
    const dir = join(root, `case-${++n}`);
    const file = join(dir, 'nested', 'tollgate.db');
    const storage = await createStorage({ kind: 'sqlite', file });
    const others: Storage[] = [];
    return {
      storage,
      second: async () => {
        const other = await createStorage({ kind: 'sqlite', file });
        others.push(other);
        return other;
      },
      tokenTableColumns: async () => {
        const raw = new SQLite(file, { readonly: true });
        try {
          return raw.prepare<[], { name: string }>("select name from pragma_table_info('tokens')").all().map((c) => c.name);
        } finally {
          raw.close();
        }
      },
      dispose: async () => {
        for (const other of others) await other.close();
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('creates the parent directory and opens the file in WAL mode', async () => {
    const file = join(root, 'fresh', 'deeper', 'db.sqlite');
    expect(existsSync(join(root, 'fresh'))).toBe(false);
    const storage = await createStorage({ kind: 'sqlite', file });
    try {
      await storage.migrate();
      expect(existsSync(file)).toBe(true);
    } finally {
      await storage.close();
    }
    const raw = new SQLite(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('checkpoints the WAL off the event loop, so it stops growing (a worker thread, once a second)', async () => {
    const file = join(root, 'wal', 'db.sqlite');
    const storage = await createStorage({ kind: 'sqlite', file });
    try {
      await storage.migrate();
      await storage.users.create(aUser('u1'));
      await storage.clients.create(aClient('c1'), T0);
      const sizes: number[] = [];
      for (let round = 0; round < 4; round++) {
        await Promise.all(Array.from({ length: 2000 }, (_, i) => storage.tokens.insert(aToken(`w-${round}-${i}`))));
        sizes.push(statSync(`${file}-wal`).size);
        await new Promise((resolve) => setTimeout(resolve, 1_300));
      }
      // Without checkpoints the WAL grows by about the same amount every round.
      expect(sizes[3]).toBeLessThan((sizes[0] ?? 0) * 1.3);
    } finally {
      await storage.close();
    }
  }, 15_000);

  it('lookups by family, parent and user still use the (now partial) token indexes', async () => {
    const file = join(root, 'plans', 'db.sqlite');
    const storage = await createStorage({ kind: 'sqlite', file });
    await storage.migrate();
    await storage.close();
    const raw = new SQLite(file, { readonly: true });
    try {
      const plan = (q: string): string =>
        (raw.prepare(`explain query plan ${q}`).all('x', 'y') as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan('update tokens set revoked_at = 1 where family_id = ? and revoked_at is null and ? is not null')).toMatch(/tokens_family_id_idx/);
      expect(plan("update tokens set revoked_at = 1 where revoked_at is null and (token_hash = ? or (parent_hash = ? and kind = 'access'))")).toMatch(/tokens_parent_hash_idx/);
      expect(plan('update tokens set revoked_at = 1 where user_id = ? and client_id = ? and revoked_at is null')).toMatch(/tokens_user_id_client_id_idx/);
    } finally {
      raw.close();
    }
  });

  it('supports :memory:', async () => {
    const storage = await createStorage({ kind: 'sqlite', file: ':memory:' });
    try {
      expect(await storage.migrate()).toEqual(['0001_initial', '0002_refresh_grace', '0003_cache_epoch', '0004_user_epoch', '0005_partial_token_indexes', '0006_token_epoch', '0007_host_login', '0008_hardening', '0009_oidc', '0010_post_logout', '0011_oidc_clients', '0012_scope_locales', '0013_device_codes', '0014_token_exchange', '0016_client_metadata', '0017_private_key_jwt']);
      await storage.ping();
    } finally {
      await storage.close();
    }
  });
});

describePg('storage contract: PostgreSQL', (url) => {
  storageContract('postgres', async () => {
    const pgSchema = await freshPgSchema(url);
    const storage = await createStorage({ kind: 'postgres', url, schema: pgSchema.schema, poolSize: 10 });
    const others: Storage[] = [];
    return {
      storage,
      second: async () => {
        const other = await createStorage({ kind: 'postgres', url, schema: pgSchema.schema, poolSize: 4 });
        others.push(other);
        return other;
      },
      tokenTableColumns: async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query<{ name: string }>(
            "select column_name as name from information_schema.columns where table_schema = $1 and table_name = 'tokens'",
            [pgSchema.schema],
          );
          return rows.map((r) => r.name);
        } finally {
          await client.end();
        }
      },
      dispose: async () => {
        for (const other of others) await other.close();
        await storage.close();
        await pgSchema.drop();
      },
    };
  });

  it('creates a missing schema and keeps schemas isolated', async () => {
    const a = await freshPgSchema(url);
    const b = await freshPgSchema(url);
    await b.drop(); // createStorage must re-create it
    const sa = await createStorage({ kind: 'postgres', url, schema: a.schema });
    const sb = await createStorage({ kind: 'postgres', url, schema: b.schema });
    try {
      expect(await sa.migrate()).toEqual(['0001_initial', '0002_refresh_grace', '0003_cache_epoch', '0004_user_epoch', '0005_partial_token_indexes', '0006_token_epoch', '0007_host_login', '0008_hardening', '0009_oidc', '0010_post_logout', '0011_oidc_clients', '0012_scope_locales', '0013_device_codes', '0014_token_exchange', '0016_client_metadata', '0017_private_key_jwt']);
      expect(await sb.migrate()).toEqual(['0001_initial', '0002_refresh_grace', '0003_cache_epoch', '0004_user_epoch', '0005_partial_token_indexes', '0006_token_epoch', '0007_host_login', '0008_hardening', '0009_oidc', '0010_post_logout', '0011_oidc_clients', '0012_scope_locales', '0013_device_codes', '0014_token_exchange', '0016_client_metadata', '0017_private_key_jwt']);
      await sa.organizations.create({ id: 'o1', name: 'Only in A', createdAt: T0 });
      expect(await sb.organizations.count()).toBe(0);
      expect((await sa.organizations.page({ limit: 10 })).items.map((o) => o.id)).toEqual(['o1']);
    } finally {
      await sa.close();
      await sb.close();
      await a.drop();
      await b.drop();
    }
  });
});

describe('createStorage: PostgreSQL option handling (no server needed)', () => {
  it('rejects an unsafe schema name before connecting', async () => {
    await expect(
      createStorage({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', schema: 'x; drop table y' }),
    ).rejects.toThrow(/Invalid PostgreSQL schema name/);
  });

  it('fails fast when the server is unreachable', async () => {
    const started = Date.now();
    const storage = await createStorage({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      await expect(storage.ping()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await storage.close();
    }
    await expect(
      createStorage({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', schema: 't_x' }),
    ).rejects.toThrow();
  });
});
