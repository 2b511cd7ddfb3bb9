/**
 * The gateway's listener: a bare node:http server (no framework: the pipeline is the framework)
 * that turns each request into an Exchange and runs the pipeline. Requests that Node parsed
 * behind a refused one on the same socket are dropped, never dispatched (a framing error may
 * hide a smuggled request); heads Node's parser itself refuses get a problem document and a
 * closed connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { canonicalIp } from '../shared/client-address.ts';
import { errorCatalogue } from '../shared/errors.ts';
import { problemType, PROBLEM_CONTENT_TYPE } from '../shared/problem.ts';
import { handle } from './pipeline.ts';
import { isBroken } from './respond.ts';
import type { Exchange, GatewayState } from './exchange.ts';

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
    segments: [],
    query: '',
    route: undefined,
    routeState: undefined,
    params: {},
    corsOrigin: undefined,
    tokenSource: undefined,
    token: undefined,
    caller: undefined,
    decision: 'allow',
    instance: undefined,
    closeConnection: false,
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
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
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
