/**
 * The package's main entry, for embedding Tollgate in a Node application: `createTollgate` builds
 * an instance (its Fastify plugin and Node handler); `startServer` runs the standalone server.
 */
export { createTollgate, type Tollgate, type TollgateOptions } from './tollgate.js';
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { createRuntime, type Runtime } from './runtime.js';
export type { Branding } from './branding.js';
export type { Accounts, Account, LoginResult } from './accounts/types.js';
export type { OAuthContext } from './oauth/context.js';
export { OAuthError } from './oauth/errors.js';
export { FeatureSet, type Feature, type Grant, type GrantRequest, type Endpoint, type EndpointRequest, type EndpointResponse, type ResponseType } from './oauth/feature.js';
export { BUILT_IN_FEATURES } from './features/index.js';
export { issueTokens, type TokenResponse } from './oauth/tokens/issue.js';
