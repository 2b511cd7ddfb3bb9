/**
 * A front for a real Security Service that answers RFC 8693 token-exchange requests itself (as
 * the test says) and passes every other request through unchanged (discovery, JWKS, /policy, the
 * event stream, client_credentials): the gateway's side of personal API tokens, tested before the
 * Security Service's grant exists, and with failures the real one cannot be made to produce.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExchangeCall {
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

export type ExchangeAnswer = { status: number; body: unknown } | 'destroy';

export interface ExchangeFront {
  url: string;
  calls: ExchangeCall[];
  answer: (call: ExchangeCall) => ExchangeAnswer | Promise<ExchangeAnswer>;
  close(): Promise<void>;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export function startExchangeFront(target: string, answer: ExchangeFront['answer']): Promise<ExchangeFront> {
  const to = new URL(target);
  const front: ExchangeFront = { url: '', calls: [], answer, close: async () => {} };
  const pass = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const form = new URLSearchParams(body.toString());
      if (req.method !== 'POST' || !req.url!.endsWith('/token') || form.get('grant_type') !== TOKEN_EXCHANGE) return pass(req, res, body);
      const call = { headers: req.headers, form };
      front.calls.push(call);
      void Promise.resolve(front.answer(call)).then((answer) => {
        if (answer === 'destroy') return res.destroy();
        res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(answer.body));
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    front.close = () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); });
    resolve(front);
  }));
}
