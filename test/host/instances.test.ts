/**
 * H1: instances are built from their parts and share nothing. Two instances in one process have
 * their own grants, branding, caches and keys; an extension grant a host registers (a feature with
 * a grant and a token-response member) can really be given to an application and used, on that
 * instance only; the metadata says exactly what each instance offers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTollgate, type Tollgate } from '../../src/tollgate.js';
import type { Feature } from '../../src/oauth/feature.js';
import { issueTokens } from '../../src/oauth/tokens/issue.js';
import { invalidGrant } from '../../src/oauth/errors.js';
import { single } from '../../src/oauth/params.js';
import { createApp } from '../../src/services/apps.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { basic, freePort, postForm } from '../helpers/server.js';
import { hostEnv } from '../helpers/host.js';
import { BUILT_IN_FEATURES } from '../../src/features/index.js';
import { validateAuthorizeRequest, AuthorizeRedirectError } from '../../src/oauth/authorize.js';

const MAGIC = 'urn:example:params:oauth:grant-type:magic-word';

/** A host's extension grant (RFC 6749 §4.5): a token for whoever knows the magic word. */
const magicFeature: Feature = {
  name: 'magic-word',
  grants: [
    {
      type: MAGIC,
      parameters: ['word'],
      publicClients: false,
      async handle(ctx, { client, params }) {
        if (single(params, 'word') !== 'please') throw invalidGrant('That is not the magic word');
        return issueTokens(ctx, { client, userId: null, scope: [], audience: `${ctx.config.issuer}/api`, familyId: null, withRefresh: false, grantType: MAGIC });
      },
    },
  ],
  metadata: () => ({ magic_word_supported: true }),
  async tokenResponse(_ctx, issued) {
    return issued.grantType === MAGIC ? { magic: 'granted', access_token: 'never replaces a standard member' } : {};
  },
};

describe('H1: two instances in one process', () => {
  let dir: string;
  let a: Tollgate;
  let b: Tollgate;
  let host: FastifyInstance;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-two-'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    a = await createTollgate({
      config: hostEnv(join(dir, 'a'), `${origin}/a`),
      extraFeatures: [magicFeature],
      branding: { name: 'Acme Accounts', logoUrl: null, color: '#aa0000' },
    });
    b = await createTollgate({ config: { ...hostEnv(join(dir, 'b'), `${origin}/b`), TOLLGATE_KEY_ALG: 'RS256' } });
    host = Fastify();
    await host.register(a.plugin);
    await host.register(b.plugin);
    await host.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await host?.close();
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('issue #13 (RFC 9728 §3.1): each instance\'s API metadata is path-inserted at the host\'s root', async () => {
    for (const name of ['a', 'b']) {
      const res = await fetch(`${origin}/.well-known/oauth-protected-resource/${name}/api`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ resource: `${origin}/${name}/api`, authorization_servers: [`${origin}/${name}`] });
      const challenge = (await fetch(`${origin}/${name}/api/`)).headers.get('www-authenticate');
      expect(challenge).toBe(`Bearer realm="tollgate", resource_metadata="${origin}/.well-known/oauth-protected-resource/${name}/api"`);
    }
  });

  it('each publishes its own metadata: the extension grant and its member only where it was added', async () => {
    const ma = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/a`)).json()) as Record<string, unknown>;
    const mb = (await (await fetch(`${origin}/.well-known/oauth-authorization-server/b`)).json()) as Record<string, unknown>;
    expect(ma['issuer']).toBe(`${origin}/a`);
    expect(mb['issuer']).toBe(`${origin}/b`);
    expect(ma['grant_types_supported']).toEqual(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange', MAGIC]);
    expect(mb['grant_types_supported']).toEqual(['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange']);
    expect(ma['magic_word_supported']).toBe(true);
    expect(mb).not.toHaveProperty('magic_word_supported');
  });

  it('an extension grant can be given to an application and used; the other instance refuses it', async () => {
    const app = await createApp(a.context, { name: 'Magic app', grantTypes: [MAGIC] });
    expect(app.client.grantTypes).toEqual([MAGIC]);
    const ok = await postForm(`${origin}/a/oauth/token`, { grant_type: MAGIC, word: 'please' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(ok.status).toBe(200);
    expect(ok.json['magic']).toBe('granted');
    expect(ok.json['access_token']).toMatch(/^tga_/);
    const api = await fetch(`${origin}/a/api/`, { headers: { authorization: `Bearer ${String(ok.json['access_token'])}` } });
    expect(api.status).toBe(200);
    const wrong = await postForm(`${origin}/a/oauth/token`, { grant_type: MAGIC, word: 'now' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(wrong).toMatchObject({ status: 400, json: { error: 'invalid_grant', error_description: 'That is not the magic word' } });

    await expect(createApp(b.context, { name: 'Magic app', grantTypes: [MAGIC] })).rejects.toThrow(OAuthError);
    await expect(createApp(b.context, { name: 'Magic app', grantTypes: [MAGIC] })).rejects.toThrow(
      `Unknown grant type "${MAGIC}"; use authorization_code, refresh_token, client_credentials, password, implicit, urn:ietf:params:oauth:grant-type:device_code, urn:ietf:params:oauth:grant-type:token-exchange`,
    );
    const other = await createApp(b.context, { name: 'Plain', grantTypes: ['client_credentials'] });
    const refused = await postForm(`${origin}/b/oauth/token`, { grant_type: MAGIC, word: 'please' }, { authorization: basic(other.client.clientId, other.clientSecret ?? '') });
    expect(refused).toMatchObject({ status: 400, json: { error: 'unsupported_grant_type' } });
  });

  it('an application of one instance is unknown to the other; keys and branding are their own', async () => {
    const app = await createApp(a.context, { name: 'Only on A', grantTypes: ['client_credentials'] });
    const onB = await postForm(`${origin}/b/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(onB).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    const ka = (await (await fetch(`${origin}/a/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; kty: string }> };
    const kb = (await (await fetch(`${origin}/b/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; kty: string }> };
    // A's access tokens are ES256 and its ID tokens RS256; B signs everything with RS256.
    expect(ka.keys.map((k) => k.kty).sort()).toEqual(['EC', 'RSA']);
    expect(ka.keys.some((k) => kb.keys.some((o) => o.kid === k.kid))).toBe(false);
    expect(kb.keys.map((k) => k.kty)).toEqual(['RSA']);
    const loginA = await (await fetch(`${origin}/a/login`)).text();
    const loginB = await (await fetch(`${origin}/b/login`)).text();
    expect(loginA).toContain('Sign in to Acme Accounts');
    expect(loginB).toContain('Sign in to Tollgate');
    expect(await (await fetch(`${origin}/a/assets/brand.css`)).text()).toContain('--accent:#aa0000');
    expect(await (await fetch(`${origin}/b/assets/brand.css`)).text()).toBe('/* default colours */\n');
  });

  it('a feature set refuses two features that claim the same grant type or endpoint', async () => {
    await expect(createTollgate({ config: hostEnv(join(dir, 'c'), `${origin}/c`), extraFeatures: [magicFeature, { ...magicFeature, name: 'again' }] })).rejects.toThrow(
      `The grant type "${MAGIC}" is contributed twice (feature "again")`,
    );
    await expect(
      createTollgate({
        config: hostEnv(join(dir, 'd'), `${origin}/d`),
        extraFeatures: [{ name: 'shadow', endpoints: [{ method: 'POST', path: '/oauth/revoke', handle: async () => ({ status: 200 }) }] }],
      }),
    ).rejects.toThrow('The endpoint POST /oauth/revoke is contributed twice (feature "shadow")');
  });

  it('configuration naming a grant type the instance lacks is refused at start', async () => {
    await expect(
      createTollgate({ config: { ...hostEnv(join(dir, 'e'), `${origin}/e`), TOLLGATE_REGISTRATION_GRANT_TYPES: `authorization_code ${MAGIC}` } }),
    ).rejects.toThrow(`TOLLGATE_REGISTRATION_GRANT_TYPES: unknown grant type "${MAGIC}"`);
    const withMagic = await createTollgate({
      config: { ...hostEnv(join(dir, 'f'), `${origin}/f`), TOLLGATE_REGISTRATION_GRANT_TYPES: `authorization_code ${MAGIC}` },
      extraFeatures: [magicFeature],
    });
    await withMagic.close();
  });
});

describe('an instance without OpenID Connect', () => {
  it('has no openid scope, no RS256 key, no OIDC metadata, and refuses scope=openid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-no-oidc-'));
    const t = await createTollgate({ config: hostEnv(dir, 'http://127.0.0.1:9/plain'), features: BUILT_IN_FEATURES.filter((f) => f.name !== 'openid-connect') });
    try {
      const ctx = t.context;
      expect(t.bootstrapped.scopesCreated).toEqual(['profile', 'email', 'admin', 'login']);
      expect(await ctx.storage.scopes.byName('openid')).toBeNull();
      expect((await ctx.keys.jwks()).keys.map((k) => k.alg)).toEqual(['ES256']);
      const meta = ctx.features.metadata(ctx);
      expect(meta['userinfo_endpoint']).toBeUndefined();
      expect(meta['end_session_endpoint']).toBeUndefined();
      const app = await createApp(ctx, { name: 'Web', redirectUris: ['https://rp.example/cb'], scopes: ['profile'] });
      const params = new Map([
        ['response_type', ['code']], ['client_id', [app.client.clientId]], ['redirect_uri', ['https://rp.example/cb']], ['scope', ['openid profile']],
        ['code_challenge', ['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM']], ['code_challenge_method', ['S256']],
      ]);
      const err = await validateAuthorizeRequest(ctx, params).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthorizeRedirectError);
      expect((err as AuthorizeRedirectError).oauth.toJSON()).toEqual({ error: 'invalid_scope', error_description: 'Scope not allowed for this client: openid' });
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
