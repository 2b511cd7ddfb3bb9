/**
 * Encryption at rest for private keys (signing keys, CA keys): AES-256-GCM under the master key,
 * from node:crypto. Format: `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The `context` string
 * (e.g. the key id) is bound as additional authenticated data, so a sealed value cannot be moved
 * to another row unnoticed.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const TAG_LENGTH = 16;

export function seal(masterKey: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function unseal(masterKey: Buffer, sealed: string, context: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('sealed value has an unknown format');
  const authTag = Buffer.from(tag, 'base64url');
  // GCM verifies a truncated tag as a prefix of the real one: pin 16 bytes so a shortened tag
  // (4 bytes = 2^32 forgery attempts) is refused instead of checked.
  if (authTag.length !== TAG_LENGTH) throw new Error('sealed value has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'), { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(context));
  try {
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('cannot decrypt a stored private key: wrong master key (GATEHOUSE_MASTER_KEY / master.key) or tampered data');
  }
}
