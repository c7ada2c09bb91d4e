/**
 * The built-in features, in the order their metadata is composed. An instance gets these unless
 * `createTollgate({ features })` says otherwise; a host adds its own with `extraFeatures`.
 */
import type { Feature } from '../oauth/feature.js';
import { authorizationCodeFeature } from './authorization-code/feature.js';
import { refreshTokenFeature } from './refresh-token/feature.js';
import { clientCredentialsFeature } from './client-credentials/feature.js';
import { passwordFeature } from './password/feature.js';
import { implicitFeature } from './implicit/feature.js';
import { revocationFeature } from './revocation/feature.js';
import { introspectionFeature } from './introspection/feature.js';
import { registrationFeature } from './registration/feature.js';
import { openIdConnectFeature } from './oidc/feature.js';
import { deviceCodeFeature } from './device-code/feature.js';
import { tokenExchangeFeature } from './token-exchange/feature.js';
import { clientIdMetadataFeature } from './client-id-metadata/feature.js';

export const BUILT_IN_FEATURES: readonly Feature[] = [
  authorizationCodeFeature,
  refreshTokenFeature,
  clientCredentialsFeature,
  passwordFeature,
  implicitFeature,
  revocationFeature,
  introspectionFeature,
  registrationFeature,
  openIdConnectFeature,
  deviceCodeFeature,
  tokenExchangeFeature,
  clientIdMetadataFeature,
];

