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

/**
 * How soon after signing in an account without a password may set a first one (seconds): there is
 * no current password to ask for, so a recent sign-in is the proof that the person is at the keys.
 */
export const FIRST_PASSWORD_WINDOW = 15 * 60;

/** Whether a session signed in at `signedInAt` may still set a first password at `now`. */
export function maySetFirstPassword(signedInAt: number | undefined, now: number): boolean {
  return signedInAt !== undefined && now - signedInAt <= FIRST_PASSWORD_WINDOW;
}
