/** Registers the built-in grants, the same way an extension grant would be registered. */
import { registerGrant } from './registry.js';
import { authorizationCodeGrant } from './authorization-code.js';
import { refreshTokenGrant } from './refresh-token.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { passwordGrant } from './password.js';

export { registerGrant, findGrant, grantTypes, type Grant, type GrantRequest } from './registry.js';

for (const grant of [authorizationCodeGrant, refreshTokenGrant, clientCredentialsGrant, passwordGrant]) {
  registerGrant(grant);
}
