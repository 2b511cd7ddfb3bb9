/**
 * Conditional GET, one way for every cacheable document (the trust bundle and CRLs, /policy):
 * an ETag, a Cache-Control, and 304 when the client's If-None-Match matches (RFC 9110 §13.1.2).
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison, may list tags, and `*` matches any. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** A strong ETag derived from the bytes served. */
export function contentEtag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

export interface CacheableDocument {
  body: string | Buffer;
  type: string;
  /** Default: `contentEtag(body)`. */
  etag?: string;
  cacheControl: string;
}

/** Sends `document` with its ETag and Cache-Control, or 304 without a body when the client has it. */
export function sendCacheable(request: FastifyRequest, reply: FastifyReply, document: CacheableDocument): FastifyReply {
  const etag = document.etag ?? contentEtag(document.body);
  reply.header('etag', etag).header('cache-control', document.cacheControl);
  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type(document.type).send(document.body);
}
