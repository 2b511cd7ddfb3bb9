/**
 * The gateway's listener: a bare node:http server (no framework: the pipeline is the framework)
 * that turns each request into an Exchange and runs the pipeline. Requests that Node parsed
 * behind a refused one on the same socket are dropped, never dispatched (a framing error may
 * hide a smuggled request); heads Node's parser itself refuses get a problem document and a
 * closed connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { canonicalIp } from '../shared/client-address.ts';
import { errorCatalogue } from '../shared/errors.ts';
import { problemType, PROBLEM_CONTENT_TYPE } from '../shared/problem.ts';
import { handle } from './pipeline.ts';
import { isBroken } from './respond.ts';
import type { Exchange, GatewayState } from './exchange.ts';

const NO_SEGMENTS: readonly string[] = Object.freeze([]);
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function newExchange(req: IncomingMessage, res: ServerResponse): Exchange {
  const peer = canonicalIp(req.socket.remoteAddress ?? '');
  return {
    req,
    res,
    startedAt: performance.now(),
    peer,
    client: peer,
    trustedPeer: false,
    head: undefined,
    requestId: undefined,
    traceparent: undefined,
    path: '',
    segments: NO_SEGMENTS,
    query: '',
    route: undefined,
    routeState: undefined,
    params: NO_PARAMS,
    corsOrigin: undefined,
    tokenSource: undefined,
    token: undefined,
    caller: undefined,
    decision: 'allow',
    instance: undefined,
    closeConnection: false,
    expectContinue: false,
  };
}

/** What Node's own parser refuses (oversized head, bare LF/CR, invalid chunk …): answered raw, connection closed. */
function rawRefusal(code: 'invalid_request' | 'header_too_large'): string {
  const { status, title } = errorCatalogue[code];
  const body = JSON.stringify({ type: problemType(code), title, status, code });
  return `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`;
}
const BAD_REQUEST = rawRefusal('invalid_request');
const HEADER_TOO_LARGE = rawRefusal('header_too_large');

export function createGatewayServer(state: GatewayState): Server {
  const server = createServer({ requireHostHeader: true, joinDuplicateHeaders: false }, (req, res) => {
    // Parsed behind a request that was refused for its framing: may be smuggled, never served.
    if (isBroken(req.socket)) return;
    void handle(newExchange(req, res), state);
  });
  // Expect: 100-continue is answered only once the request passed every check (./stages/forward.ts):
  // a body that would be refused (401, 403, 413 …) is never invited.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (isBroken(req.socket)) return;
    const exchange = newExchange(req, res);
    exchange.expectContinue = true;
    void handle(exchange, state);
  });
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // Refused for its framing and answered already (Node dispatched it before its parser failed,
    // e.g. some Transfer-Encoding values): let the answer drain and close.
    if (isBroken(socket as Socket)) {
      socket.end();
      return;
    }
    // The parser failed in the body of a request that is being forwarded (a bad chunk): a second
    // answer would corrupt the stream; destroying the socket aborts the request and its upstream call.
    if ((socket as { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const code = error.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large' : 'invalid_request';
    state.metrics.unmatched.observe(errorCatalogue[code].status, 0);
    state.metrics.denied('malformed');
    state.accessLog?.info({ decision: 'malformed', status: errorCatalogue[code].status, parser: error.code }, 'request');
    const answer = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n' : code === 'header_too_large' ? HEADER_TOO_LARGE : BAD_REQUEST;
    socket.end(answer, () => socket.destroy());
  });
  return server;
}
