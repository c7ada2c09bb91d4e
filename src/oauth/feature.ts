/**
 * Features: what each protocol capability contributes to an instance (docs/design.md, habits 1,
 * 11 and 12). A feature is a plain object: the grants it adds to the token endpoint, the response
 * types it adds to the authorization endpoint, its own endpoints, the metadata members it
 * advertises, the authorization parameters it reads and the token-response members it adds.
 *
 * `createTollgate` builds one `FeatureSet` per instance from the features it is given, so two
 * instances in one process never share a grant. Built-in features (src/features/) are composed the
 * same way an extension a host writes would be. Nothing here imports an HTTP framework: endpoints
 * receive a plain request and answer a plain response, and src/http/ adapts them.
 */
import type { KeyAlg } from '../config.js';
import type { ClientRow } from '../storage/types.js';
import type { AuthMethod } from './client-auth.js';
import type { OAuthContext } from './context.js';
import type { Params } from './params.js';
import type { IssuedFacts, TokenResponse } from './tokens/issue.js';
import type { AuthorizeRequest } from './authorize.js';

export interface GrantRequest {
  readonly client: ClientRow;
  readonly authMethod: AuthMethod;
  /** Only the parameters the grant declared. */
  readonly params: Params;
  readonly ip: string | null;
}

/** A token-endpoint grant (RFC 6749 §4, or an absolute URI for an extension grant, §4.5). */
export interface Grant {
  /** The `grant_type` value. */
  readonly type: string;
  /** Parameters the grant reads, beyond grant_type and client authentication. */
  readonly parameters: readonly string[];
  /** Whether a public client may use this grant. */
  readonly publicClients: boolean;
  /** A grant that checks a person's password: it shares the per-IP sign-in limit (O7). */
  readonly signIn?: boolean;
  handle(ctx: OAuthContext, req: GrantRequest): Promise<TokenResponse>;
}

/** Who approved, and how they signed in (what an OpenID Connect ID token says about it). */
export interface SignIn {
  readonly userId: string;
  /** When the person signed in, epoch ms. */
  readonly authTime: number;
  readonly amr: readonly string[] | null;
  readonly acr: string | null;
  /** The session (OpenID Connect `sid`), when known. */
  readonly sid: string | null;
}

/** What the person approved, for a response type to answer with. */
export interface Approval {
  readonly userId: string;
  readonly signIn: SignIn;
  /** The grant's token family: its code, tokens and any feature's record of it share this id. */
  readonly familyId: string;
  /** The scopes granted (what was asked, minus what the person unticked). */
  readonly scopes: readonly string[];
  /**
   * AnyFetch's replace_existing_token (Z6), for a person who had authorized the application before:
   * their earlier tokens are to be revoked once the application redeems what this approval sends.
   */
  readonly replaceExisting: boolean;
}

/** A `response_type` of the authorization endpoint (RFC 6749 §3.1.1). */
export interface ResponseType {
  readonly type: string;
  /** The grant type an application must hold to use it (`authorization_code`, `implicit`). */
  readonly grantType: string;
  /** Where the response parameters go by default (RFC 6749 §4.1.2 query, §4.2.2 fragment). */
  readonly mode: 'query' | 'fragment';
  /** Whether PKCE (`code_challenge`) applies to this response type. */
  readonly pkce: boolean;
  /** The response members for an approved request (before `state`, `iss` and `return_to`). */
  respond(ctx: OAuthContext, req: AuthorizeRequest, approval: Approval): Promise<Readonly<Record<string, string | undefined>>>;
}

/** What a feature's check of an authorization request found out. */
export interface AuthorizeFindings {
  readonly subjectHint?: string;
}

/** An approved authorization request and the members its response type answered with. */
export interface Authorized {
  readonly request: AuthorizeRequest;
  readonly approval: Approval;
  readonly members: Readonly<Record<string, string | undefined>>;
}

/** A request to a feature's endpoint, already read by the HTTP layer. */
export interface EndpointRequest {
  /**
   * Body parameters through the strict reader (duplicates kept, for the endpoint to refuse).
   * Read on first use: reading a JSON body with nested values as parameters is `invalid_request`.
   */
  readonly params: Params;
  readonly query: Params;
  /** The body as an object (JSON as is; form fields as strings or lists). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Path parameters, e.g. `{ clientId }` for `/oauth/register/:clientId`. */
  readonly pathParams: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  readonly ip: string | null;
}

export interface EndpointResponse {
  readonly status: number;
  /** JSON body; absent for an empty body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Endpoint {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path relative to the issuer, e.g. `/oauth/revoke`. */
  readonly path: string;
  /** Metadata member that advertises this endpoint's URL (e.g. `revocation_endpoint`). */
  readonly metadataName?: string;
  /** The endpoint authenticates clients: failed attempts count toward the failure limit. */
  readonly clientAuthentication?: boolean;
  /** Answer cross-origin requests from configured origins (never for pages). */
  readonly cors?: boolean;
  /** Registers an application: limited per client IP with every other registration path. */
  readonly registration?: boolean;
  /** Protected by a bearer token: errors carry RFC 6750's `WWW-Authenticate` challenge. */
  readonly bearer?: boolean;
  /**
   * A well-known document (`/.well-known/…`): also served path-inserted at the host's root when
   * the issuer has a path (RFC 8414 §3.1 style), besides appended to the issuer (OIDC Discovery §4).
   */
  readonly wellKnown?: boolean;
  handle(ctx: OAuthContext, req: EndpointRequest): Promise<EndpointResponse>;
}

/** What the token endpoint issued, for features that add members to the response. */
export interface IssuedTokenResponse {
  readonly client: ClientRow;
  readonly grantType: string;
  readonly response: TokenResponse;
  /** For whom and in which grant the tokens were made (absent for a grant that did not say). */
  readonly facts: IssuedFacts | null;
}

export interface EndedSessions {
  /** The OpenID Connect `sid` of each session that ended. */
  readonly sids: readonly string[];
}

export interface Feature {
  /** Unique within an instance, e.g. `authorization-code`, `introspection`. */
  readonly name: string;
  readonly grants?: readonly Grant[];
  /** Grant-type values an application may hold that are not token-endpoint grants (`implicit`). */
  readonly clientGrantTypes?: readonly string[];
  readonly responseTypes?: readonly ResponseType[];
  /** Authorization-request parameters this feature reads (unknown ones are ignored, RFC 6749 §3.1). */
  readonly authorizeParameters?: readonly string[];
  /**
   * Scopes any application may ask for on behalf of a person, without holding them (OpenID
   * Connect's `openid` and `offline_access`): never granted unless asked. Created at start (with
   * this description, shown on the consent page) when missing.
   */
  readonly personScopes?: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  /** JWS algorithms this feature signs with: the key store keeps a current key of each. */
  readonly keyAlgs?: readonly KeyAlg[];
  /**
   * More checks of a valid authorization request; throws an OAuthError (sent to the redirect URI).
   * May name the person the request is for (`subjectHint`, from OpenID Connect's `id_token_hint`).
   */
  validateAuthorize?(ctx: OAuthContext, request: AuthorizeRequest): Promise<AuthorizeFindings | void> | AuthorizeFindings | void;
  /** Called once a person approved a request; may add members to the response (an ID token). */
  authorized?(ctx: OAuthContext, authorized: Authorized): Promise<Readonly<Record<string, string | undefined>>>;
  readonly endpoints?: readonly Endpoint[];
  /** Members this feature adds to the authorization server metadata (RFC 8414 §2). */
  metadata?(ctx: OAuthContext): Readonly<Record<string, unknown>>;
  /**
   * Sessions ended (sign-out, a new sign-in in the same browser, "sign out everywhere", a disabled
   * person, the host's `endSession`). Called after the fact and not awaited: whatever the feature
   * does about it (OpenID Connect's back-channel logout) must never hold up or fail the sign-out.
   */
  sessionsEnded?(ctx: OAuthContext, ended: EndedSessions): void;
  /** Members this feature adds to a successful token response (RFC 6749 §5.1 allows extensions). */
  tokenResponse?(ctx: OAuthContext, issued: IssuedTokenResponse): Promise<Readonly<Record<string, unknown>>>;
  /**
   * Applications this feature knows by the shape of their client_id (Client ID Metadata
   * Documents: an https URL). Returns undefined, synchronously, for a client_id that is not its
   * kind (the stored application is used); otherwise the application, or null when unknown, and
   * throws an OAuthError when it cannot be used. Called where a request names its client.
   */
  resolveClient?(ctx: OAuthContext, clientId: string): Promise<ClientRow | null> | undefined;
}

/** The features of one instance, indexed. Refuses two features that claim the same thing. */
export class FeatureSet {
  readonly features: readonly Feature[];
  private readonly grants = new Map<string, Grant>();
  private readonly responseTypesByName = new Map<string, ResponseType>();
  private readonly holdable: readonly string[];
  readonly authorizeParameters: ReadonlySet<string>;
  readonly personScopes: readonly string[];
  /** The person scopes with their descriptions, for the first start. */
  readonly personScopeList: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly endpoints: readonly Endpoint[];
  private readonly decorators: readonly Feature[];
  private readonly validators: readonly Feature[];
  private readonly onAuthorized: readonly Feature[];
  private readonly resolvers: readonly Feature[];

  constructor(features: readonly Feature[]) {
    const names = new Set<string>();
    const endpoints: Endpoint[] = [];
    const routes = new Set<string>();
    const params = new Set<string>();
    const holdable: string[] = [];
    for (const f of features) {
      if (names.has(f.name)) throw new Error(`Two features are named "${f.name}"`);
      names.add(f.name);
      for (const g of f.grants ?? []) {
        if (this.grants.has(g.type)) throw new Error(`The grant type "${g.type}" is contributed twice (feature "${f.name}")`);
        this.grants.set(g.type, g);
        holdable.push(g.type);
      }
      for (const g of f.clientGrantTypes ?? []) if (!holdable.includes(g)) holdable.push(g);
      for (const rt of f.responseTypes ?? []) {
        if (this.responseTypesByName.has(rt.type)) throw new Error(`The response type "${rt.type}" is contributed twice (feature "${f.name}")`);
        this.responseTypesByName.set(rt.type, rt);
      }
      for (const p of f.authorizeParameters ?? []) params.add(p);
      for (const e of f.endpoints ?? []) {
        const key = `${e.method} ${e.path}`;
        if (routes.has(key)) throw new Error(`The endpoint ${key} is contributed twice (feature "${f.name}")`);
        routes.add(key);
        endpoints.push(e);
      }
    }
    this.features = features;
    this.holdable = holdable;
    this.authorizeParameters = params;
    this.endpoints = endpoints;
    this.decorators = features.filter((f) => f.tokenResponse !== undefined);
    this.validators = features.filter((f) => f.validateAuthorize !== undefined);
    this.onAuthorized = features.filter((f) => f.authorized !== undefined);
    this.resolvers = features.filter((f) => f.resolveClient !== undefined);
    this.personScopeList = features.flatMap((f) => f.personScopes ?? []);
    this.personScopes = [...new Set(this.personScopeList.map((s) => s.name))];
  }

  /** Every algorithm a feature signs with (a current key of each is kept). */
  keyAlgs(): KeyAlg[] {
    return [...new Set(this.features.flatMap((f) => f.keyAlgs ?? []))];
  }

  has(name: string): boolean {
    return this.features.some((f) => f.name === name);
  }

  grant(type: string): Grant | undefined {
    return this.grants.get(type);
  }

  /** The `grant_type` values of the token endpoint. */
  tokenGrantTypes(): string[] {
    return [...this.grants.keys()];
  }

  /** The grant types an application may be given: every token grant, plus `implicit` and the like. */
  clientGrantTypes(): readonly string[] {
    return this.holdable;
  }

  responseType(type: string): ResponseType | undefined {
    return this.responseTypesByName.get(type);
  }

  responseTypes(): string[] {
    return [...this.responseTypesByName.keys()];
  }

  /** Every feature's extra checks of an authorization request. */
  async validateAuthorize(ctx: OAuthContext, request: AuthorizeRequest): Promise<AuthorizeFindings> {
    let findings: AuthorizeFindings = {};
    for (const f of this.validators) findings = { ...findings, ...((await f.validateAuthorize!(ctx, request)) ?? {}) };
    return findings;
  }

  /** The approved request's response members, with what each feature adds (never replacing one). */
  async authorized(ctx: OAuthContext, authorized: Authorized): Promise<Readonly<Record<string, string | undefined>>> {
    if (this.onAuthorized.length === 0) return authorized.members;
    const out: Record<string, string | undefined> = { ...authorized.members };
    for (const f of this.onAuthorized) {
      const extra = await f.authorized!(ctx, { ...authorized, members: out });
      for (const [k, v] of Object.entries(extra)) if (out[k] === undefined) out[k] = v;
    }
    return out;
  }

  /** Tells every feature that sessions ended; a feature's failure never reaches the caller. */
  sessionsEnded(ctx: OAuthContext, ended: EndedSessions): void {
    if (ended.sids.length === 0) return;
    for (const f of this.features) {
      if (!f.sessionsEnded) continue;
      try {
        f.sessionsEnded(ctx, ended);
      } catch {
        // the feature's own concern (it logs); the sign-out goes on
      }
    }
  }

  /**
   * The application a request names: a feature's own kind of client_id (resolveClient), else the
   * stored application. The common case (no such feature claims the id) adds no await.
   */
  findClient(ctx: OAuthContext, clientId: string): Promise<ClientRow | null> {
    for (const f of this.resolvers) {
      const found = f.resolveClient!(ctx, clientId);
      if (found !== undefined) return found;
    }
    return ctx.storage.clients.byId(clientId);
  }

  /** Every feature's metadata members, in feature order. */
  metadata(ctx: OAuthContext): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const e of this.endpoints) if (e.metadataName) out[e.metadataName] = `${ctx.config.issuer}${e.path}`;
    for (const f of this.features) if (f.metadata) Object.assign(out, f.metadata(ctx));
    return out;
  }

  /** The token response with every feature's extra members (none of them may replace a standard one). */
  async decorateTokenResponse(ctx: OAuthContext, issued: IssuedTokenResponse): Promise<TokenResponse> {
    if (this.decorators.length === 0) return issued.response;
    const extra: Record<string, unknown> = {};
    for (const f of this.decorators) {
      const members = await f.tokenResponse!(ctx, issued);
      for (const [k, v] of Object.entries(members)) if (!(k in issued.response)) extra[k] = v;
    }
    // The common case on the token path (client credentials, no openid): nothing added, no copy.
    return Object.keys(extra).length === 0 ? issued.response : { ...issued.response, ...extra };
  }
}
