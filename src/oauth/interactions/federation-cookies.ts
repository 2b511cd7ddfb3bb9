/**
 * The two short-lived cookies of a sign-in through an external provider, sealed (AES-256-GCM,
 * ../../shared/sealed.ts) under a key derived from the cookie key, so the browser can neither
 * read nor change them, and each bound to the interaction uid it was made for:
 * - `gatehouse_federation_flow` (path /federation/): state, nonce and PKCE verifier between the
 *   redirect to the provider and its callback;
 * - `gatehouse_federated` (path /interaction/<uid>): the identity the callback verified, until
 *   the interaction finishes (sign in, create an account, or link one).
 * Both are HttpOnly, SameSite=Lax (the callback is a top-level navigation from the provider),
 * Secure on https, and expire with `maxAge`; their content expires too (checked on unseal).
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { seal, unseal } from '../../shared/sealed.ts';

export const FLOW_COOKIE = 'gatehouse_federation_flow';
export const IDENTITY_COOKIE = 'gatehouse_federated';

const derive = (cookieKey: string) => createHash('sha256').update('gatehouse federation cookie\0').update(cookieKey).digest();

export interface SealedCookies {
  set(reply: FastifyReply, name: string, path: string, value: object, maxAge: number): void;
  clear(reply: FastifyReply, name: string, path: string): void;
  /** The unsealed value, or undefined if missing, tampered with, sealed under another key or expired. */
  get<T>(request: FastifyRequest, name: string): T | undefined;
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function appendCookie(reply: FastifyReply, line: string): void {
  const existing = reply.getHeader('set-cookie');
  const lines = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('set-cookie', [...lines, line]);
}

export function createSealedCookies(cookieKeys: string[], secure: boolean, now: () => number): SealedCookies {
  const keys = cookieKeys.map(derive);
  const attributes = (path: string, maxAge: number) => `Path=${path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    set(reply, name, path, value, maxAge) {
      const sealed = seal(keys[0]!, JSON.stringify({ value, exp: now() + maxAge }), name);
      appendCookie(reply, `${name}=${sealed}; ${attributes(path, maxAge)}`);
    },
    clear(reply, name, path) {
      appendCookie(reply, `${name}=; ${attributes(path, 0)}`);
    },
    get<T>(request: FastifyRequest, name: string): T | undefined {
      const raw = readCookie(request, name);
      if (!raw || raw.length > 4096) return undefined;
      for (const key of keys) {
        try {
          const { value, exp } = JSON.parse(unseal(key, raw, name)) as { value: T; exp: number };
          return typeof exp === 'number' && exp > now() ? value : undefined;
        } catch {
          // another key (rotation), or not ours
        }
      }
      return undefined;
    },
  };
}
