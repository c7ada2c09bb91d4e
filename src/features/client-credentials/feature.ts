/** Client credentials grant (RFC 6749 §4.4; ./grant.ts). */
import type { Feature } from '../../oauth/feature.js';
import { clientCredentialsGrant } from './grant.js';

export const clientCredentialsFeature: Feature = {
  name: 'client-credentials',
  grants: [clientCredentialsGrant],
};
