/**
 * The package's main entry, for embedding Tollgate in a Node application (SPEC "Embedded"):
 * build the app around your own context, or start the standalone server.
 */
export { buildApp, type AppDeps } from './app.js';
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { createRuntime, type Runtime } from './runtime.js';
export type { Accounts, Account, LoginResult } from './accounts/types.js';
export type { OAuthContext } from './oauth/context.js';
export { OAuthError } from './oauth/errors.js';
export { registerGrant, type Grant, type GrantRequest } from './oauth/grants/index.js';
