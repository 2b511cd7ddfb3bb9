/**
 * Key material of one signing key: generation with jose, the public/private JWK split, and the
 * sealing of the private JWK at rest (AES-256-GCM under the master key, bound to the kid); and
 * the public key of a verify-only key, read from PEM with node:crypto.
 */
import { generateKeyPair, exportJWK, calculateJwkThumbprint, importJWK, type JWK, type CryptoKey } from 'jose';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
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

/**
 * The public JWK of a PEM public key (SPKI) or X.509 certificate of another issuer, with the JWS
 * algorithm it verifies: EC P-256 → ES256, RSA (≥ 2048 bits) → RS256, Ed25519 → EdDSA. `alg`, when
 * given, must match the key. Private keys are refused: a verify-only key must never be able to sign.
 */
export function publicJwkFromPem(pem: string, alg?: string): { jwk: JWK; alg: SigningAlgorithm } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new TypeError('expected a public key or a certificate, received a private key (a verify-only key never signs: import only its public half)');
  let key: KeyObject;
  try {
    key = /-----BEGIN CERTIFICATE-----/.test(pem) ? new X509Certificate(pem).publicKey : createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new TypeError('expected a PEM public key (BEGIN PUBLIC KEY) or certificate (BEGIN CERTIFICATE)');
  }
  const details = key.asymmetricKeyDetails ?? {};
  const inferred: SigningAlgorithm | undefined =
    key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1' ? 'ES256'
      : key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048 ? 'RS256'
        : key.asymmetricKeyType === 'ed25519' ? 'EdDSA'
          : undefined;
  if (inferred === undefined) {
    const what = key.asymmetricKeyType === 'ec' ? `EC ${details.namedCurve}` : key.asymmetricKeyType === 'rsa' ? `RSA ${details.modulusLength} bits` : key.asymmetricKeyType;
    throw new TypeError(`expected an EC P-256, RSA (≥ 2048 bits) or Ed25519 key, received ${what}`);
  }
  if (alg !== undefined && alg !== inferred) throw new TypeError(`--alg ${alg} does not fit this key: it verifies ${inferred}`);
  return { jwk: key.export({ format: 'jwk' }) as JWK, alg: inferred };
}
