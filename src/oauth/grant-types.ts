/**
 * The identifiers of the grant types Tollgate itself implements (RFC 6749 §4, RFC 8628 §3.4,
 * RFC 8693 §2.1), written once: the features that implement them, the services that check an
 * application's grants, the pages that name them and the OpenAPI document all read them here.
 * A host's extension grants (`extraFeatures`) bring their own identifiers.
 */
export const GRANT = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  clientCredentials: 'client_credentials',
  password: 'password',
  implicit: 'implicit',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
} as const;

export type BuiltinGrant = (typeof GRANT)[keyof typeof GRANT];

/** Every built-in grant, in the order the documentation lists them. */
export const BUILTIN_GRANTS: readonly BuiltinGrant[] = Object.values(GRANT);
