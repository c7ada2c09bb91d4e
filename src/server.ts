/**
 * `tollgate serve`: opens the database, runs first-start bootstrap, builds the HTTP app and
 * listens; the purge job (O8) runs in the background; SIGTERM/SIGINT close gracefully
 * (in-flight requests complete, new connections are refused, open keep-alive connections are
 * drained with `Connection: close`; see `drain`).
 */
import type { Server as HttpServer } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { BootstrapResult } from './services/bootstrap.js';
import { buildApp } from './app.js';
import { startPurgeJob } from './services/purge.js';
import { createTollgate, type Tollgate, type TollgateOptions } from './tollgate.js';
import type { OAuthContext } from './oauth/context.js';
import type { Storage } from './storage/types.js';

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly tollgate: Tollgate;
  readonly runtime: { readonly ctx: OAuthContext; readonly storage: Storage };
  close(): Promise<void>;
}

export interface StartOptions {
  readonly out?: (line: string) => void;
  /** Install SIGTERM/SIGINT handlers (the CLI does; tests don't). */
  readonly handleSignals?: boolean;
  readonly logger?: Parameters<typeof buildApp>[0]['logger'];
  /** PostgreSQL schema to use (tests isolate themselves in a throwaway schema). */
  readonly pgSchema?: string;
  /** Run the purge job in this process (default true; in cluster mode only the first worker does). */
  readonly purge?: boolean;
  /** Print the bootstrap and "serving on" lines (default true; cluster workers leave it to the primary). */
  readonly banner?: boolean;
  /** Further instance options (features, branding…); the configuration is `config`. */
  readonly instance?: Omit<TollgateOptions, 'config' | 'logger' | 'pgSchema'>;
}

/** How long a graceful shutdown waits for keep-alive connections to finish their last request. */
const DRAIN_MS = 3_000;

/**
 * First half of a graceful shutdown: stop accepting connections, answer every request that still
 * arrives on an open keep-alive connection normally but with `Connection: close`, and wait (at
 * most `maxMs`) until those connections are gone. Only then does `app.close()` run — it answers
 * late requests with 503 and reaps idle sockets, which by then should be none.
 *
 * `http.Server#close` is not used here: since Node 19 it also closes idle keep-alive sockets at
 * once, and a request already on its way over one is then reset — a POST the client cannot
 * safely retry. The listening socket is closed through `net.Server#close` instead.
 */
async function drain(server: HttpServer, maxMs: number): Promise<void> {
  server.prependListener('request', (_req, res) => {
    res.shouldKeepAlive = false;
  });
  NetServer.prototype.close.call(server);
  const deadline = Date.now() + maxMs;
  for (;;) {
    const open = await new Promise<number>((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
    if (open === 0 || Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const tollgate = await createTollgate({
    onAuditError: (err) => out(`audit write failed: ${(err as Error).message}`),
    ...opts.instance,
    config,
    ...(opts.pgSchema !== undefined ? { pgSchema: opts.pgSchema } : {}),
  });
  const boot = tollgate.bootstrapped;
  const ctx = tollgate.context;
  const runtime = { ctx, storage: ctx.storage };
  let app: FastifyInstance;
  try {
    app = await buildApp({ ctx, metrics: tollgate.metrics, ...(opts.logger !== undefined ? { logger: opts.logger } : {}) });
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await tollgate.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  if (opts.banner !== false) {
    if (tollgate.databaseCreated) out(`Created a new database at ${config.dataDir}/tollgate.db.`);
    printBanner(out, config, boot, url, runtime.storage.dialect);
  }

  const purge =
    opts.purge === false
      ? { stop: () => {} }
      : startPurgeJob(ctx, config.purgeIntervalSeconds, (line) => app.log.info(line));

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      purge.stop();
      await app.close();
      await tollgate.close();
    })();
    return closing;
  };
  if (opts.handleSignals) {
    const onSignal = (signal: string) => {
      out(`${signal} received: finishing in-flight requests, then exiting.`);
      const timer = setTimeout(() => process.exit(1), 10_000);
      timer.unref();
      drain(app.server, DRAIN_MS)
        .then(close)
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  }
  return { url, app, tollgate, runtime, close };
}

/** The start-up lines: what bootstrap created, and where everything is served. */
export function printBanner(
  out: (line: string) => void,
  config: Config,
  boot: BootstrapResult,
  url: string,
  dialect: 'sqlite' | 'postgres',
): void {
  for (const w of boot.warnings) out(`WARNING: ${w}`);
  if (boot.keyCreated) out(`Created a ${config.keyAlg} signing key.`);
  if (boot.scopesCreated.length > 0) out(`Created the scopes: ${boot.scopesCreated.join(', ')}.`);
  if (boot.admin) {
    if (boot.admin.generatedPassword !== null) {
      out(`Created the admin user ${boot.admin.email} with the password: ${boot.admin.generatedPassword}`);
      out('  (shown once; set TOLLGATE_ADMIN_PASSWORD to choose it)');
    } else {
      out(`Created the admin user ${boot.admin.email} (password from TOLLGATE_ADMIN_PASSWORD).`);
    }
  }
  const issuer = config.issuer;
  out(`Tollgate is serving on ${url} (issuer ${issuer}, database ${dialect === 'sqlite' ? `${config.dataDir}/tollgate.db` : 'PostgreSQL'})`);
  const base = new URL(issuer).pathname.replace(/\/+$/, '');
  out(`  metadata      ${base ? `${new URL(issuer).origin}/.well-known/oauth-authorization-server${base}` : `${issuer}/.well-known/oauth-authorization-server`}`);
  out(`  authorize     ${issuer}/oauth/authorize`);
  out(`  token         ${issuer}/oauth/token`);
  out(`  login         ${issuer}/login`);
  out(`  API reference ${issuer}/docs`);
}
