/**
 * Client of `GET /events/stream` for other processes (gateway, SDK). Imports nothing of the
 * server: parses server-sent events, reconnects with exponential backoff and jitter, and resumes
 * after the last seq it saw (Last-Event-ID). It verifies nothing unless `verify` is given (then
 * each SET is checked against the issuer's JWKS); consumers may verify SETs themselves.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { PublishedEvent } from './types.ts';
import { decodeSet, SET_TYP } from './set-codec.ts';

export interface EventStreamOptions {
  /** Base URL of the Security Service. */
  url: string;
  /** A current service access token (audience = issuer, scope events:read); called on every (re)connect. */
  token: () => Promise<string>;
  /** Resume after this seq; unset: start at the current end of the stream. */
  after?: number;
  onEvent: (event: PublishedEvent) => void;
  onError?: (error: Error) => void;
  fetch?: typeof fetch;
  /** Verify each SET's signature (JWKS of `issuer`) before delivering it. */
  verify?: { jwksUri: string; issuer: string };
  /** Backoff bounds in ms (defaults 250 and 30 000). */
  minBackoff?: number;
  maxBackoff?: number;
}

export interface EventStreamSubscription {
  close(): void;
  lastSeq(): number;
}

interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** Incremental SSE parser (WHATWG): feed it text, it calls `dispatch` per complete message. */
export function createSseParser(dispatch: (message: SseMessage) => void): (chunk: string) => void {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    // A trailing '\r' might be the first half of '\r\n': hold it back until the next chunk.
    const held = buffer.endsWith('\r') ? '\r' : '';
    if (held) buffer = buffer.slice(0, -1);
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = (lines.pop() ?? '') + held;
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0) dispatch({ id, event: event || 'message', data: data.join('\n') });
        data = [];
        event = '';
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
    }
  };
}

export function subscribeToEventStream(options: EventStreamOptions): EventStreamSubscription {
  const doFetch = options.fetch ?? fetch;
  const minBackoff = options.minBackoff ?? 250;
  const maxBackoff = options.maxBackoff ?? 30_000;
  const jwks = options.verify ? createRemoteJWKSet(new URL(options.verify.jwksUri)) : undefined;
  const streamUrl = new URL('/events/stream', options.url.endsWith('/') ? options.url : `${options.url}/`);
  let lastSeq = options.after ?? -1;
  let closed = false;
  let controller: AbortController | undefined;
  let attempt = 0;
  let pending: Promise<void> = Promise.resolve();

  const report = (error: unknown) => {
    if (!closed) options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };

  async function handle(message: SseMessage): Promise<void> {
    const seq = Number(message.id);
    if (!Number.isSafeInteger(seq) || seq <= lastSeq) return;
    lastSeq = seq;
    try {
      if (jwks && options.verify) await jwtVerify(message.data, jwks, { issuer: options.verify.issuer, typ: SET_TYP });
      const published = decodeSet(message.data, seq);
      if (published && !closed) options.onEvent(published);
    } catch (error) {
      report(new Error(`security event ${seq} was not accepted: ${(error as Error).message}`));
    }
  }

  async function connectOnce(): Promise<void> {
    controller = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${await options.token()}` };
    if (lastSeq >= 0) headers['last-event-id'] = String(lastSeq);
    const response = await doFetch(streamUrl, { headers, signal: controller.signal });
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel();
      throw new Error(`event stream answered ${response.status}`);
    }
    attempt = 0;
    const parse = createSseParser((message) => {
      // Deliver in order even when verification is asynchronous.
      pending = pending.then(() => handle(message));
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      parse(decoder.decode(chunk, { stream: true }));
    }
    await pending;
    throw new Error('event stream ended');
  }

  async function run(): Promise<void> {
    while (!closed) {
      try {
        await connectOnce();
      } catch (error) {
        if (closed) return;
        report(error);
      }
      const ceiling = Math.min(maxBackoff, minBackoff * 2 ** attempt);
      attempt += 1;
      // Full jitter: many gateways reconnecting after a restart do not arrive together.
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
  void run();

  return {
    close() {
      closed = true;
      controller?.abort();
    },
    lastSeq: () => lastSeq,
  };
}
