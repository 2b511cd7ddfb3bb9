/** The account page's routes: one page, and the form posts under it. */
export const ACCOUNT_ROUTES = {
  page: '/account',
  password: '/account/password',
  endSession: '/account/sessions/end',
  endAllSessions: '/account/sessions/end-all',
  createToken: '/account/tokens',
  revokeToken: '/account/tokens/revoke',
  disconnectApp: '/account/apps/disconnect',
  unlinkIdentity: '/account/identities/unlink',
} as const;
