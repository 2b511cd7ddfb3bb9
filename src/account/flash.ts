/**
 * The flash message of POST-redirect-GET: a form post answers 303 to /account and leaves what
 * to say in a short-lived cookie (Path=/account, HttpOnly), which the next page shows once and
 * clears. A new personal API token travels this way to be shown exactly once, so the cookie is
 * sealed (AES-256-GCM under a key derived from the master key, bound to the user): the browser
 * holds only ciphertext.
 */
import { hkdfSync } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { seal, unseal } from '../shared/sealed.ts';

export const FLASH_COOKIE = 'gatehouse_account_flash';
const FLASH_PATH = '/account';
const FLASH_TTL = 300;

const flashSchema = z.object({
  kind: z.enum(['ok', 'error']),
  message: z.string().max(2000),
  /** A new personal API token (shown once). */
  token: z.string().max(1000).optional(),
  /** Epoch s after which the flash is stale. */
  until: z.number(),
});
export type Flash = z.infer<typeof flashSchema>;

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function createFlash(options: { masterKey: Buffer; secure: boolean; now: () => number }) {
  const { secure } = options;
  // A key of its own, derived from the master key: cookies never share a key with stored secrets.
  const masterKey = Buffer.from(hkdfSync('sha256', options.masterKey, Buffer.alloc(0), 'gatehouse account flash cookie', 32));
  const attributes = `Path=${FLASH_PATH}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  const context = (userId: string) => `account-flash:${userId}`;
  return {
    /** Sets the flash for the next page of `userId`. */
    set(reply: FastifyReply, userId: string, flash: Omit<Flash, 'until'>): void {
      const value = seal(masterKey, JSON.stringify({ ...flash, until: options.now() + FLASH_TTL }), context(userId));
      reply.header('set-cookie', `${FLASH_COOKIE}=${value}; Max-Age=${FLASH_TTL}; ${attributes}`);
    },
    /** The flash for `userId`, if any, and clears it (shown once). A cookie that does not open is dropped silently. */
    take(request: FastifyRequest, reply: FastifyReply, userId: string): Flash | undefined {
      const raw = readCookie(request.headers.cookie, FLASH_COOKIE);
      if (raw === undefined) return undefined;
      reply.header('set-cookie', `${FLASH_COOKIE}=; Max-Age=0; ${attributes}`);
      try {
        const flash = flashSchema.parse(JSON.parse(unseal(masterKey, raw, context(userId))));
        return flash.until >= options.now() ? flash : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export type FlashStore = ReturnType<typeof createFlash>;
