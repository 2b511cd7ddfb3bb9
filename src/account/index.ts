/**
 * The account page (issue 8): a signed-in user's profile, password, sessions, personal API tokens,
 * connected apps and linked identities, server-rendered by the Security Service and reached through
 * the gateway. Built from plain objects the composition root hands in (./types.ts); docs/account-page.md.
 */
export { registerAccountRoutes, SIGN_IN_PATH } from './routes.ts';
export { ACCOUNT_ROUTES } from './paths.ts';
export { createScopeChoices } from './scope-choices.ts';
export type { AccountDeps, AccountUser, AccountSession, AccountSessions, ApiTokens, ApiTokenSummary, ConnectedApps, ConnectedApp, LinkedIdentities, LinkedIdentity, PasswordCheck } from './types.ts';
