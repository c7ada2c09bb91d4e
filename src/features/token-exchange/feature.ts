/** Token exchange (RFC 8693; ./grant.ts, docs/token-exchange.md), for applications an administrator allowed it. */
import type { Feature } from '../../oauth/feature.js';
import { TOKEN_EXCHANGE, tokenExchangeGrant } from './grant.js';
import { ACCESS_TOKEN_TYPE } from './tokens.js';

export const tokenExchangeFeature: Feature = {
  name: 'token-exchange',
  grants: [tokenExchangeGrant],
  // §2.2.1: "issued_token_type REQUIRED": what the access_token member holds.
  async tokenResponse(_ctx, { grantType }) {
    return grantType === TOKEN_EXCHANGE ? { issued_token_type: ACCESS_TOKEN_TYPE } : {};
  },
};
