/** Resource owner password credentials grant (RFC 6749 §4.3; ./grant.ts), for applications allowed it (T5). */
import type { Feature } from '../../oauth/feature.js';
import { passwordGrant } from './grant.js';

export const passwordFeature: Feature = {
  name: 'password',
  grants: [passwordGrant],
};
