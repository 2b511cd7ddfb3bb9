/**
 * Encryption at rest for private keys (signing keys, CA keys): AES-256-GCM under the master key,
 * from node:crypto. Format `v2.<master key id>.<iv>.<tag>.<ciphertext>` (base64url parts): the id
 * names the master key that sealed the value, so a wrong key is reported as such and
 * `gatehouse secrets rekey` knows which values still need re-sealing. `v1.<iv>.<tag>.<ciphertext>`
 * (no id, sealed before) is still read. The `context` string (e.g. the key id) is bound as
 * additional authenticated data, so a sealed value cannot be moved to another row unnoticed.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const TAG_LENGTH = 16;

/**
 * A public name for a master key: the first 8 bytes of SHA-256 over a label and the key, hex.
 * It identifies the key without revealing anything usable about 256 random bits.
 */
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('gatehouse master key id\0').update(masterKey).digest('hex').slice(0, 16);
}

interface Parsed {
  /** Undefined for the v1 format. */
  keyId: string | undefined;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

const unknownFormat = () => new Error('sealed value has an unknown format');

function parse(sealed: string): Parsed {
  const parts = sealed.split('.');
  const [keyId, iv, tag, ciphertext] = parts[0] === 'v2' && parts.length === 5 ? parts.slice(1) : parts[0] === 'v1' && parts.length === 4 ? [undefined, ...parts.slice(1)] : [];
  if (!iv || !tag || ciphertext === undefined || (keyId !== undefined && !/^[0-9a-f]{16}$/.test(keyId))) throw unknownFormat();
  const authTag = Buffer.from(tag, 'base64url');
  // GCM verifies a truncated tag as a prefix of the real one: pin 16 bytes so a shortened tag
  // (4 bytes = 2^32 forgery attempts) is refused instead of checked.
  if (authTag.length !== TAG_LENGTH) throw unknownFormat();
  return { keyId, iv: Buffer.from(iv, 'base64url'), tag: authTag, ciphertext: Buffer.from(ciphertext, 'base64url') };
}

export function seal(masterKey: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v2', masterKeyId(masterKey), iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** The id of the master key that sealed `sealed`; undefined for a value in the v1 format (no id). */
export function sealedKeyId(sealed: string): string | undefined {
  return parse(sealed).keyId;
}

export function unseal(masterKey: Buffer, sealed: string, context: string): string {
  const parsed = parse(sealed);
  const current = masterKeyId(masterKey);
  if (parsed.keyId !== undefined && parsed.keyId !== current) {
    throw new Error(`cannot decrypt a stored private key: wrong master key (sealed under master key ${parsed.keyId}, the current one is ${current}; after changing the master key run \`gatehouse secrets rekey\` with the old one)`);
  }
  const decipher = createDecipheriv('aes-256-gcm', masterKey, parsed.iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(context));
  try {
    decipher.setAuthTag(parsed.tag);
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('cannot decrypt a stored private key: wrong master key (GATEHOUSE_MASTER_KEY / master.key) or tampered data');
  }
}
