/**
 * Device authorization grant (RFC 8628; issue #14): sign-in for devices that cannot receive a
 * redirect (CLIs, TVs, headless agents). The device authorization endpoint and the
 * `urn:ietf:params:oauth:grant-type:device_code` grant (./device.ts); the verification page where
 * the person types the code is src/http/routes/device.ts. Applications opt in per application.
 */
import type { Feature, Grant } from '../../oauth/feature.js';
import { single } from '../../oauth/params.js';
import { DEVICE_GRANT, handleDeviceAuthorization, pollDeviceCode } from './device.js';

const deviceCodeGrant: Grant = {
  type: DEVICE_GRANT,
  parameters: ['device_code'],
  // §3.4: a device often cannot keep a secret; the application must still hold the grant.
  publicClients: true,
  handle: (ctx, { client, params }) => pollDeviceCode(ctx, client, single(params, 'device_code')),
};

export const deviceCodeFeature: Feature = {
  name: 'device-code',
  grants: [deviceCodeGrant],
  endpoints: [
    {
      method: 'POST',
      path: '/oauth/device_authorization',
      metadataName: 'device_authorization_endpoint',
      clientAuthentication: true,
      cors: true,
      handle: async (ctx, req) => ({
        status: 200,
        body: await handleDeviceAuthorization(ctx, { params: req.params, query: req.query, authorization: req.authorization }),
      }),
    },
  ],
};
