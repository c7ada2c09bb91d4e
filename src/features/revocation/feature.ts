/** Token revocation (RFC 7009, T9) at `/oauth/revoke` (./revocation.ts). */
import type { Feature } from '../../oauth/feature.js';
import { handleRevocation } from './revocation.js';
import { ASSERTION_ALGORITHMS } from '../../oauth/client-assertion.js';

export const revocationFeature: Feature = {
  name: 'revocation',
  endpoints: [
    {
      method: 'POST',
      path: '/oauth/revoke',
      metadataName: 'revocation_endpoint',
      clientAuthentication: true,
      cors: true,
      // RFC 7009 §2.2: 200 whether or not the token existed.
      handle: (ctx, req) => handleRevocation(ctx, { params: req.params, authorization: req.authorization, ip: req.ip }).then(() => ({ status: 200 })),
    },
  ],
  metadata: () => ({
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
  }),
};
