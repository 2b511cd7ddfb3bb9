/**
 * The personal API token format lives in src/shared/api-token-format.ts (the gateway checks it
 * too, before any network call); what only the Security Service needs is here: the public token
 * id and the digest it stores and looks tokens up by.
 */
import { sha256Hex } from '../../shared/random.ts';
import { randomBase62 } from '../../shared/api-token-format.ts';

export { API_TOKEN_PREFIX, API_TOKEN_LENGTH, API_TOKEN_PATTERN, RANDOM_LENGTH, CHECKSUM_LENGTH, generateApiToken, tokenShapeProblem, type TokenShapeProblem } from '../../shared/api-token-format.ts';

/** Length of the public token id (what lists show and revocation names). */
const ID_LENGTH = 12;

/** A new public token id: names the token in lists, the CLI and revocation events; grants nothing. */
export function generateTokenId(): string {
  return randomBase62(ID_LENGTH);
}

/** What the store keeps and looks tokens up by. */
export function tokenDigest(token: string): string {
  return sha256Hex(token);
}
