/**
 * Starts the bookstore's three services the way a deployment would start each of them: enroll
 * with a join token (certificate from the internal CA), build a verifier of the Security
 * Service's access tokens (revocations pushed over the event stream with the service's own
 * credential), open its own database, listen with mutual TLS accepting only the gateway and
 * the peers that need it.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import {
  workloadIdentity, createVerifier, clientCredentials, mtlsAgent,
  type WorkloadIdentity, type TokenSource, type SdkLogger,
} from '../../../src/sdk/index.ts';
import { serveService } from './serve.ts';
import { openServiceDatabase } from './database.ts';
import { catalogRoutes, migrateCatalog } from './catalog.ts';
import { catalogClient, migrateOrders, ordersRoutes } from './orders.ts';
import { storefrontRoutes } from './storefront.ts';

export interface ServiceCredential {
  clientId: string;
  clientSecret: string;
}

export interface BookstoreServicesOptions {
  issuer: string;
  /** Internal URL of the Security Service. */
  securityService: string;
  /** The API audience the gateway and services accept. */
  audience: string;
  caUrl: string;
  dataDir: string;
  /** One join token per service. */
  joinTokens: { catalog: string; orders: string; storefront: string };
  credentials: { catalog: ServiceCredential; orders: ServiceCredential; storefront: ServiceCredential };
  ports: { catalog: number; orders: number; storefront: number };
  host?: string;
  logger: (service: string) => SdkLogger;
}

export interface RunningService {
  name: string;
  url: string;
  identity: WorkloadIdentity;
  close(): Promise<void>;
}

async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `https://${host}:${address.port}`;
}

export interface BookstoreServices {
  services: RunningService[];
  close(): Promise<void>;
}

export async function startBookstoreServices(options: BookstoreServicesOptions): Promise<BookstoreServices> {
  const host = options.host ?? '127.0.0.1';
  const started: RunningService[] = [];
  const closers: Array<() => Promise<void>> = [];
  const spiffe = (td: string, service: string) => `spiffe://${td}/svc/${service}`;

  async function prepare(name: 'catalog' | 'orders' | 'storefront') {
    const logger = options.logger(name);
    const identity = await workloadIdentity({ caUrl: options.caUrl, service: name, joinToken: options.joinTokens[name], logger });
    const credential = options.credentials[name];
    const events = clientCredentials({ issuer: options.issuer, securityService: options.securityService, ...credential, scope: 'events:read', resource: options.issuer });
    const verifier = createVerifier({ issuer: options.issuer, audience: options.audience, securityService: options.securityService, credentials: events, logger });
    closers.push(async () => { await verifier.close(); events.close(); await identity.close(); });
    return { logger, identity, verifier, credential };
  }

  async function run(name: string, server: Server, identity: WorkloadIdentity, port: number, extra?: () => Promise<void>) {
    const url = await listen(server, host, port);
    started.push({
      name, url, identity,
      async close() {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await extra?.();
      },
    });
  }

  try {
    const catalog = await prepare('catalog');
    const td = catalog.identity.trustDomain;
    const catalogDb = openServiceDatabase(options.dataDir, 'catalog');
    migrateCatalog(catalogDb);
    await run('catalog', serveService({
      name: 'catalog', identity: catalog.identity, verifier: catalog.verifier, logger: catalog.logger, routes: catalogRoutes(catalogDb),
      allow: [
        { spiffeId: spiffe(td, 'gateway'), paths: ['/api/books', '/api/books/*'] },
        { spiffeId: spiffe(td, 'orders'), methods: ['POST'], paths: ['/internal/reservations', '/internal/restocks'] },
      ],
    }), catalog.identity, options.ports.catalog, async () => catalogDb.close());

    const orders = await prepare('orders');
    const ordersDb = openServiceDatabase(options.dataDir, 'orders');
    migrateOrders(ordersDb);
    // Its own token for calling the catalog: the API audience, the role that grants catalog:reserve.
    const apiTokens: TokenSource = clientCredentials({ issuer: options.issuer, securityService: options.securityService, ...orders.credential, resource: options.audience });
    const toCatalog = mtlsAgent(orders.identity, { expect: spiffe(td, 'catalog') });
    const catalogUrl = started.find((s) => s.name === 'catalog')!.url;
    await run('orders', serveService({
      name: 'orders', identity: orders.identity, verifier: orders.verifier, logger: orders.logger,
      routes: ordersRoutes(ordersDb, catalogClient({ baseUrl: catalogUrl, agent: toCatalog, tokens: apiTokens })),
      allow: [{ spiffeId: spiffe(td, 'gateway'), paths: ['/api/orders', '/api/orders/*', '/api/users/*'] }],
    }), orders.identity, options.ports.orders, async () => { apiTokens.close(); await toCatalog.close(); ordersDb.close(); });

    const storefront = await prepare('storefront');
    await run('storefront', serveService({
      name: 'storefront', identity: storefront.identity, verifier: storefront.verifier, logger: storefront.logger, routes: storefrontRoutes(),
      allow: [{ spiffeId: spiffe(td, 'gateway'), methods: ['GET', 'HEAD'] }],
    }), storefront.identity, options.ports.storefront);
  } catch (error) {
    for (const service of started.reverse()) await service.close().catch(() => {});
    for (const close of closers.reverse()) await close().catch(() => {});
    throw error;
  }

  return {
    services: started,
    async close() {
      for (const service of [...started].reverse()) await service.close().catch(() => {});
      for (const close of closers.reverse()) await close().catch(() => {});
    },
  };
}
