/**
 * Key material of one signing key: generation with jose, the public/private JWK split, and the
 * sealing of the private JWK at rest (AES-256-GCM under the master key, bound to the kid).
 */
import { generateKeyPair, exportJWK, calculateJwkThumbprint, importJWK, type JWK, type CryptoKey } from 'jose';
import { seal, unseal } from '../shared/sealed.ts';
import { signingKeyContext } from '../store/index.ts';

export type SigningAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

export interface GeneratedKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** Members a published JWK carries beside the key itself. */
function withMetadata(jwk: JWK, kid: string, alg: string): JWK {
  return { ...jwk, kid, alg, use: 'sig' };
}

export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedKey> {
  const options = alg === 'RS256' ? { extractable: true, modulusLength: 2048 } : alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true };
  const { publicKey, privateKey } = await generateKeyPair(alg, options);
  const publicJwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint names the key: stable, unique, and derivable by anyone holding it.
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, alg, publicJwk: withMetadata(publicJwk, kid, alg), privateJwk: withMetadata(await exportJWK(privateKey), kid, alg) };
}

export function sealPrivateJwk(masterKey: Buffer, jwk: JWK, kid: string): string {
  return seal(masterKey, JSON.stringify(jwk), signingKeyContext(kid));
}

/** Throws a clear error when the master key is wrong or the row was tampered with. */
export function unsealPrivateJwk(masterKey: Buffer, sealed: string, kid: string): JWK {
  return JSON.parse(unseal(masterKey, sealed, signingKeyContext(kid))) as JWK;
}

export async function importSigningKey(jwk: JWK, alg: string): Promise<CryptoKey> {
  return (await importJWK(jwk, alg)) as CryptoKey;
}
