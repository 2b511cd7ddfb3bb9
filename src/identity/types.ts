import type { StoreTransaction } from '../store/index.ts';

export interface User {
  id: string;
  username: string;
  email: string;
  status: 'active' | 'disabled';
  roles: string[];
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number | null;
}

/**
 * `throttled`: a delay after recent failures applies, or the client's budget is taken by attempts
 * still being checked; `locked`: the account name or the client address is locked; `busy`: the
 * password-hashing queue is full (answer 503 with Retry-After).
 */
export type LoginFailureReason = 'invalid_credentials' | 'throttled' | 'locked' | 'busy' | 'disabled';

export type LoginResult =
  | { ok: true; user: User }
  /** `retryAfter`: seconds until the next attempt is accepted (set while a delay or lock applies). */
  | { ok: false; reason: LoginFailureReason; retryAfter?: number };

export interface Authenticator {
  authenticate(input: { username: string; password: string; ip: string }): Promise<LoginResult>;
}

export interface UserService {
  /** `options.within` runs inside the creating transaction (e.g. to link an external identity): if it throws, no user is created. */
  create(input: { username: string; email: string; password?: string; roles?: string[] }, actor: string, options?: { within?: (trx: StoreTransaction, userId: string) => Promise<void> }): Promise<User>;
  list(): Promise<User[]>;
  /** By id or username (case-insensitive); throws `not_found`. */
  find(idOrUsername: string): Promise<User>;
  /** One query; used on every token issuance. */
  findById(id: string): Promise<User | undefined>;
  disable(idOrUsername: string, actor: string): Promise<User>;
  enable(idOrUsername: string, actor: string): Promise<User>;
  setPassword(idOrUsername: string, password: string, actor: string): Promise<User>;
  /** Whether the user can sign in with a password (an account made through an external provider may have none). */
  hasPassword(id: string): Promise<boolean>;
  grantRole(idOrUsername: string, role: string, actor: string): Promise<User>;
  revokeRole(idOrUsername: string, role: string, actor: string): Promise<User>;
}
