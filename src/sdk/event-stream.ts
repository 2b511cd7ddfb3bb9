/**
 * Client of the Security Service's `GET /events/stream` for other processes (gateway, services).
 * Imports nothing of the server: parses server-sent events, reconnects with exponential backoff
 * and jitter, and resumes after the last seq it saw (Last-Event-ID). It verifies nothing unless
 * `verify` is given (then each SET is checked against the issuer's keys before delivery).
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { decodeSet, SET_TYP, type PublishedEvent } from '../shared/security-events.ts';

export interface EventStreamOptions {
  /** Base URL of the Security Service (the issuer; a path prefix is kept). */
  url: string;
  /** A current service access token (audience = issuer, scope events:read); called on every (re)connect. */
  token: () => Promise<string>;
  /** Resume after this seq (0 replays the retained history); unset: start at the current end of the stream. */
  after?: number;
  onEvent: (event: PublishedEvent) => void;
  onError?: (error: Error) => void;
  /** Called with true when the stream is open (200 received) and false when it is lost. */
  onConnection?: (connected: boolean) => void;
  fetch?: typeof fetch;
  /**
   * Verify each SET (signature, `iss`, `typ: secevent+jwt`) before delivering it: against the JWKS
   * at `jwksUri`, or with `keys` (a jose key resolver, e.g. the verifier's own key set).
   */
  verify?: { issuer: string; jwksUri: string } | { issuer: string; keys: JWTVerifyGetKey; algorithms?: string[] };
  /**
   * Decoded events this returns false for are dropped unverified (they would change nothing, e.g.
   * a replayed revocation whose `until` has passed): replaying history then costs no signature checks.
   */
  relevant?: (event: PublishedEvent) => boolean;
  /** Backoff bounds in ms (defaults 250 and 30 000). */
  minBackoff?: number;
  maxBackoff?: number;
  /** Reconnect when nothing (not even a heartbeat comment) arrived for this long, ms. 0 = never (default). */
  idleTimeout?: number;
}

export interface EventStreamSubscription {
  close(): void;
  lastSeq(): number;
  connected(): boolean;
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

type SetCheck = (set: string) => Promise<unknown>;

function setCheck(verify: EventStreamOptions['verify']): SetCheck | undefined {
  if (!verify) return undefined;
  if ('jwksUri' in verify) {
    const jwks = createRemoteJWKSet(new URL(verify.jwksUri));
    return (set) => jwtVerify(set, jwks, { issuer: verify.issuer, typ: SET_TYP });
  }
  const options = { issuer: verify.issuer, typ: SET_TYP, ...(verify.algorithms ? { algorithms: verify.algorithms } : {}) };
  return (set) => jwtVerify(set, verify.keys, options);
}

export function subscribeToEventStream(options: EventStreamOptions): EventStreamSubscription {
  const doFetch = options.fetch ?? fetch;
  const minBackoff = options.minBackoff ?? 250;
  const maxBackoff = options.maxBackoff ?? 30_000;
  const idleTimeout = options.idleTimeout ?? 0;
  const check = setCheck(options.verify);
  // Relative to the base with a trailing slash, so an issuer's path prefix is kept.
  const streamUrl = new URL('events/stream', options.url.endsWith('/') ? options.url : `${options.url}/`);
  let lastSeq = options.after ?? -1;
  let closed = false;
  let connected = false;
  let controller: AbortController | undefined;
  let attempt = 0;
  let pending: Promise<void> = Promise.resolve();

  const report = (error: unknown) => {
    if (!closed) options.onError?.(error instanceof Error ? error : new Error(String(error)));
  };
  const setConnected = (value: boolean) => {
    if (connected === value) return;
    connected = value;
    if (!closed) options.onConnection?.(value);
  };

  async function handle(message: SseMessage): Promise<void> {
    const seq = Number(message.id);
    if (!Number.isSafeInteger(seq) || seq <= lastSeq) return;
    lastSeq = seq;
    try {
      const published = decodeSet(message.data, seq);
      if (!published || (options.relevant && !options.relevant(published))) return;
      if (check) await check(message.data);
      if (!closed) options.onEvent(published);
    } catch (error) {
      report(new Error(`security event ${seq} was not accepted: ${(error as Error).message}`));
    }
  }

  async function connectOnce(): Promise<void> {
    const ours = new AbortController();
    controller = ours;
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${await options.token()}` };
    if (lastSeq >= 0) headers['last-event-id'] = String(lastSeq);
    let idle: NodeJS.Timeout | undefined;
    const touch = () => {
      if (idleTimeout <= 0) return;
      if (idle) idle.refresh();
      else idle = setTimeout(() => ours.abort(new Error(`event stream idle for ${idleTimeout} ms`)), idleTimeout).unref();
    };
    try {
      touch();
      const response = await doFetch(streamUrl, { headers, signal: ours.signal });
      if (response.status !== 200 || !response.body) {
        await response.body?.cancel();
        throw new Error(`event stream answered ${response.status}`);
      }
      attempt = 0;
      setConnected(true);
      const parse = createSseParser((message) => {
        // Deliver in order even when verification is asynchronous.
        pending = pending.then(() => handle(message));
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        touch();
        parse(decoder.decode(chunk, { stream: true }));
      }
      await pending;
      throw new Error('event stream ended');
    } finally {
      if (idle) clearTimeout(idle);
      setConnected(false);
    }
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
      // Equal jitter: many gateways reconnecting after a restart do not arrive together.
      await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
    }
  }
  void run();

  return {
    close() {
      closed = true;
      connected = false;
      controller?.abort();
    },
    lastSeq: () => lastSeq,
    connected: () => connected,
  };
}
