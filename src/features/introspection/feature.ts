/** Token introspection (RFC 7662, T10) at `/oauth/introspect` (./introspection.ts). */
import type { Feature } from '../../oauth/feature.js';
import { handleIntrospection } from './introspection.js';
import { ASSERTION_ALGORITHMS } from '../../oauth/client-assertion.js';

export const introspectionFeature: Feature = {
  name: 'introspection',
  endpoints: [
    {
      method: 'POST',
      path: '/oauth/introspect',
      metadataName: 'introspection_endpoint',
      clientAuthentication: true,
      handle: (ctx, req) => handleIntrospection(ctx, { params: req.params, authorization: req.authorization }).then((body) => ({ status: 200, body })),
    },
  ],
  metadata: () => ({
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
  }),
};
