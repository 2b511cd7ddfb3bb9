/**
 * The two example services. Each is an ordinary HTTPS server built with the SDK: it requires a
 * client certificate from the Gatehouse CA and says which SPIFFE IDs may call which routes.
 */
import type { Server } from 'node:https';
import { createMtlsServer, type WorkloadIdentity, type SdkLogger } from '../../src/sdk/index.ts';

const books = [
  { id: '1', title: 'The Left Hand of Darkness', price: 12 },
  { id: '2', title: 'A Wizard of Earthsea', price: 9 },
];

/** catalog: orders may read books; nobody else may call it. */
export function catalogServer(identity: WorkloadIdentity, logger: SdkLogger): Server {
  const td = identity.trustDomain;
  return createMtlsServer((req, res) => {
    const id = req.url?.split('/')[2];
    const book = books.find((b) => b.id === id);
    res.writeHead(book ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(book ? { ...book, servedTo: req.spiffeId } : { error: 'no such book' }));
  }, { identity, allow: [{ spiffeId: `spiffe://${td}/svc/orders`, methods: ['GET'], paths: ['/books/*'] }], logger });
}

/** orders: only the gateway may call it — catalog may not. */
export function ordersServer(identity: WorkloadIdentity, logger: SdkLogger): Server {
  const td = identity.trustDomain;
  return createMtlsServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ orders: [], caller: req.spiffeId }));
  }, { identity, allow: [{ spiffeId: `spiffe://${td}/svc/gateway`, paths: ['/orders', '/orders/*'] }], logger });
}
