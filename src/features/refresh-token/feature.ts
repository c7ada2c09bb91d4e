/** Refresh tokens with rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14; ./grant.ts). */
import type { Feature } from '../../oauth/feature.js';
import { refreshTokenGrant } from './grant.js';

export const refreshTokenFeature: Feature = {
  name: 'refresh-token',
  grants: [refreshTokenGrant],
};
