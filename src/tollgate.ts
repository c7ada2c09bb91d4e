/**
 * `createTollgate(options)`: one Tollgate instance, built from its parts — configuration,
 * storage, features, branding — with nothing shared with any other instance in the process
 * (docs/design.md habit 11). It gives a host:
 * - `plugin`: an encapsulated Fastify plugin, `app.register(tollgate.plugin, { prefix: '/oauth' })`;
 * - `handler`: a plain Node `(req, res)` handler for Express, Connect or `node:http` hosts. It reads
 *   the raw body itself (so RFC 6749 §3.1's duplicate-parameter check holds): mount it before any
 *   body parser;
 * - `close()`: stops the instance (its Node handler's server, then its storage).
 * `tollgate serve` (src/server.ts) is one user of it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyServerOptions } from 'fastify';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Branding } from './branding.js';
import type { Storage } from './storage/types.js';
import type { Feature } from './oauth/feature.js';
import type { OAuthEvents } from './oauth/context.js';
import { createRuntime } from './runtime.js';
import { bootstrap as runBootstrap, type BootstrapResult } from './services/bootstrap.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { tollgatePlugin, type TollgatePluginOptions } from './http/plugin.js';
import { buildApp } from './app.js';
import type { HostAccounts } from './accounts/types.js';
import type { HostLogin } from './login/types.js';
import type { HttpContext } from './http/context.js';
import { builtinLogin } from './login/builtin.js';
import { delegatedLogin } from './login/delegated.js';
import { embeddedLogin, hostSessionHash } from './login/embedded.js';
import { sidOf } from './oauth/crypto.js';
import { revokeSubjectEverywhere } from './services/directory.js';
import type { Outbound } from './net/outbound.js';

export interface TollgateOptions {
  /** A configuration from `loadConfig`, or settings in its environment-variable form. Default: `process.env`. */
  readonly config?: Config | Readonly<Record<string, string | undefined>>;
  /** An open storage; default: the configured database (SQLite in the data folder, or PostgreSQL). */
  readonly storage?: Storage;
  /** This instance's features (default: every built-in one, src/features/index.ts). */
  readonly features?: readonly Feature[];
  /** Features added to those: the host's extension grants, endpoints and metadata. */
  readonly extraFeatures?: readonly Feature[];
  /** Default: TOLLGATE_BRAND_*. */
  readonly branding?: Branding;
  /** Logger of the Node handler's internal server (a Fastify host's logger is the host's). */
  readonly logger?: FastifyServerOptions['logger'];
  readonly events?: Partial<OAuthEvents>;
  /** PostgreSQL schema (tests isolate themselves in a throwaway schema). */
  readonly pgSchema?: string;
  readonly now?: () => number;
  /** Create the signing key, the built-in scopes and a first administrator on an empty database (default true). */
  readonly bootstrap?: boolean;
  /** Called when an audit record cannot be written (default: nothing). */
  readonly onAuditError?: (err: unknown) => void;
  /**
   * Embedded mode: the host's own session is the login (`currentUser`, `loginUrl`). Without it,
   * Tollgate signs people in with its own password form, or delegates to TOLLGATE_LOGIN_URL.
   */
  readonly login?: HostLogin;
  /** The host's people (embedded mode): who a subject is and what may be said about them. */
  readonly accounts?: HostAccounts;
  /**
   * How Tollgate calls URLs that applications registered (JWKS, Client ID Metadata Documents,
   * back-channel logout). Default: the SSRF-safe client of src/net/outbound.ts. Tests and the
   * benchmark give one that answers from memory.
   */
  readonly outbound?: Outbound;
}

export interface Tollgate {
  readonly issuer: string;
  /** The instance's context (storage, keys, features, login…), for services and tests. */
  readonly context: HttpContext;
  readonly metrics: Metrics;
  /**
   * The host signed a person out (or their session ended): Tollgate no longer treats that session
   * as signed in, even if it were reported again with its old sign-in time.
   */
  endSession(sessionId: string): Promise<void>;
  /**
   * The host disabled a person (or they signed out everywhere): every token, code and Tollgate
   * session they have is revoked at once. Returns how many tokens were revoked.
   */
  revokeSubject(subject: string): Promise<number>;
  /** The embedded database file did not exist and was created by this instance. */
  readonly databaseCreated: boolean;
  /** What the first start created (nothing when `bootstrap: false` or the database was ready). */
  readonly bootstrapped: BootstrapResult;
  /** The Fastify plugin. Its prefix, when given, must be the issuer's path. */
  readonly plugin: FastifyPluginAsync<TollgatePluginOptions>;
  /** A Node request handler serving the same routes (its own Fastify server inside). */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Paths outside the issuer's path that the instance also serves (the path-inserted metadata
   * document of RFC 8414 §3.1): a host using `handler` routes these to it as well.
   */
  readonly rootPaths: readonly string[];
  close(): Promise<void>;
}

function isConfig(value: TollgateOptions['config']): value is Config {
  return typeof value === 'object' && value !== null && typeof (value as Config).issuer === 'string' && typeof (value as Config).port === 'number';
}

export async function createTollgate(options: TollgateOptions = {}): Promise<Tollgate> {
  const config = isConfig(options.config) ? options.config : loadConfig(options.config ?? process.env);
  if (options.login && !options.accounts) throw new Error('createTollgate: the host\'s login (`login`) needs the host\'s accounts (`accounts`) too');
  if (options.login && config.loginUrl !== null) {
    throw new ConfigError(['TOLLGATE_LOGIN_URL: an instance with the host\'s own login (createTollgate({ login })) does not delegate sign-in as well']);
  }
  const metrics = createMetrics();
  const runtime = await createRuntime(config, {
    events: { tokenIssued: (grant) => metrics.tokensIssued.inc({ grant_type: grant }), ...options.events },
    ...(options.onAuditError ? { onAuditError: options.onAuditError } : {}),
    ...(options.pgSchema !== undefined ? { pgSchema: options.pgSchema } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(options.extraFeatures ? { extraFeatures: options.extraFeatures } : {}),
    ...(options.branding ? { branding: options.branding } : {}),
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.accounts ? { accounts: options.accounts } : {}),
    ...(options.login ? { embeddedLogin: true } : {}),
    ...(options.outbound ? { outbound: options.outbound } : {}),
  });
  const protocol = runtime.ctx;
  const login =
    options.login !== undefined
      ? embeddedLogin(protocol, options.login)
      : protocol.config.loginUrl !== null
        ? delegatedLogin(protocol, protocol.config.loginUrl)
        : builtinLogin(protocol);
  const ctx: HttpContext = { ...protocol, login };
  let bootstrapped: BootstrapResult = { keyCreated: false, scopesCreated: [], admin: null, warnings: [] };
  try {
    if (options.bootstrap !== false) bootstrapped = await runBootstrap(ctx);
  } catch (err) {
    await runtime.close();
    throw err;
  }

  // The Node handler: a Fastify server of the instance's own, built on first use, whose request
  // listener is called with the host's (req, res).
  let inner: Promise<{ app: FastifyInstance; listener: (req: IncomingMessage, res: ServerResponse) => void }> | null = null;
  const innerApp = () =>
    (inner ??= (async () => {
      let listener: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
      const app = await buildApp({
        ctx,
        metrics,
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
        serverFactory: (handle) => {
          listener = handle;
          return createServer(handle);
        },
      });
      await app.ready();
      if (!listener) throw new Error('the Node handler could not be built');
      return { app, listener };
    })());

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // Express and Connect strip their mount path from `req.url` and keep the original.
    const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
    if (typeof original === 'string' && original !== req.url) req.url = original;
    if ((req as IncomingMessage & { body?: unknown }).body !== undefined) {
      // A body parser ran first: the raw body (and RFC 6749 §3.1's duplicate check) is gone.
      res.statusCode = 500;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.end(JSON.stringify({ error: 'server_error', error_description: 'Tollgate must be mounted before any body parser' }));
      return;
    }
    innerApp().then(
      ({ listener }) => listener(req, res),
      () => {
        res.statusCode = 503;
        res.end();
      },
    );
  };

  let closing: Promise<void> | null = null;
  return {
    issuer: config.issuer,
    context: ctx,
    metrics,
    databaseCreated: runtime.databaseCreated,
    async endSession(sessionId) {
      if (typeof sessionId !== 'string' || sessionId === '') return;
      const hash = hostSessionHash(sessionId);
      if (await ctx.storage.sessions.end(hash, ctx.now())) {
        ctx.features.sessionsEnded(ctx, { sids: [sidOf(hash)] });
        await ctx.audit.record('session.ended', { details: { via: 'host' } });
      }
    },
    revokeSubject: (subject) => revokeSubjectEverywhere(ctx, subject, { via: 'host' }),
    bootstrapped,
    plugin: tollgatePlugin({ ctx, metrics, ownsServer: false }),
    handler,
    rootPaths:
      ctx.base === ''
        ? []
        : [
            `/.well-known/oauth-authorization-server${ctx.base}`,
            ...ctx.features.endpoints.filter((e) => e.wellKnown === true && e.path.startsWith('/.well-known/')).map((e) => `${e.path}${ctx.base}`),
          ],
    close() {
      closing ??= (async () => {
        if (inner) await (await inner.catch(() => null))?.app.close();
        await runtime.close();
      })();
      return closing;
    },
  };
}
