/** Personal API tokens (docs/api-tokens.md). */
export { createApiTokenService } from './service.ts';
export { registerApiTokenRoutes, API_TOKEN_REVOKE_ROUTE } from './routes.ts';
export { API_TOKEN_PREFIX, API_TOKEN_PATTERN, tokenShapeProblem } from './format.ts';
export type { ApiTokenService, ApiTokenSummary, ApiTokenOwner, ApiTokenDeps, CreateApiTokenInput, ExchangeLookup, ExchangeRefusal } from './types.ts';
