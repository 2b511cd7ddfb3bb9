export { createKeyService, ROTATION_SKEW_SECONDS, type KeyService, type KeyServiceDeps, type SigningKeyInfo } from './keys.ts';
export { createAccessTokenVerifier, hasScope, type AccessTokenClaims, type AccessTokenVerifier, type AccessTokenVerifierDeps } from './verifier.ts';
export { bearerToken, bearerChallenge, bearerError, requireAccessToken, requireScope, BEARER_REALM, type BearerErrorCode, type RequireAccessTokenOptions } from './bearer.ts';
export type { SigningAlgorithm } from './key-material.ts';
export { createApiTokenService, registerApiTokenRoutes, API_TOKEN_REVOKE_ROUTE, API_TOKEN_PREFIX, API_TOKEN_PATTERN, tokenShapeProblem, type ApiTokenService, type ApiTokenSummary, type ApiTokenOwner, type ApiTokenDeps, type CreateApiTokenInput, type ExchangeLookup, type ExchangeRefusal } from './api-tokens/index.ts';
