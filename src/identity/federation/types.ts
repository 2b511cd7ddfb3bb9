/** What the federation parts pass between them. */

/** What the callback must match, kept between the redirect to the provider and its answer (sealed, in a cookie). */
export interface PendingFlow {
  state: string;
  /** OpenID Connect providers only. */
  nonce?: string;
  /** PKCE code verifier. */
  verifier: string;
}

/** Who signed in at a provider, as checked by the relying party. */
export interface ExternalIdentity {
  provider: string;
  /** The provider's stable id of the user: with `provider`, the key of a linked identity. */
  subject: string;
  /** Suggested username of a new account (the provider's claim, unchecked). */
  username?: string;
  /** The provider's e-mail claim: used for a new account only, never to find or link one. */
  email?: string;
  /** Gatehouse roles the provider's role rules give. */
  roles: string[];
}

/** Contract 3 (HELPERS-BRIEF): what the account page lists. */
export interface LinkedIdentity {
  provider: string;
  providerName: string;
  subject: string;
  label?: string;
  linkedAt: number;
}

export interface LinkedIdentities {
  list(userId: string): Promise<LinkedIdentity[]>;
  /**
   * Removes one link; false if there was none. Refuses (`conflict`) to remove the last way the
   * account can sign in: its only linked identity when it has no password.
   */
  unlink(userId: string, provider: string, subject: string, actor: string): Promise<boolean>;
}
