/**
 * A CA imported with the root key kept offline, end to end on SQLite and PostgreSQL: the root
 * CRL given at import is served (workloads load one per CA), a workload enrolls through the SDK
 * with a token pinning the imported root and serves mTLS.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { request } from 'undici';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { foreignCa } from './helpers/pki.ts';
import { craftIntermediate, craftRootCrl } from './helpers/pki-import.ts';
import { createContext, closeContext } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { fingerprintSha256 } from '../src/x509/index.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity } from '../src/sdk/index.ts';

const TD = 'td.test';

await forEachDialect('pki import with the root key offline', (dialect) => {
  let svc: TestService;
  let rootCrl: string;
  let rootFingerprint: string;
  const identities: WorkloadIdentity[] = [];
  let server: Server | undefined;

  before(async () => {
    const root = await foreignCa('CN=Offline Imported Root');
    const intermediate = await craftIntermediate(root);
    rootCrl = await craftRootCrl(root);
    rootFingerprint = fingerprintSha256(root.cert);
    svc = await startService({
      dialect,
      config: { pki: { trustDomain: TD } },
      // `gatehouse ca init --import-root root.pem --root-crl root.crl --import-intermediate … --intermediate-key …`
      prepare: async (config) => {
        const context = await createContext({ config, logger: silentLogger(), env: {} });
        try {
          await context.pki.importAuthority({ rootPem: root.pem, rootCrl, intermediatePem: intermediate.pem, intermediateKeyPem: intermediate.keyPem }, 'test');
        } finally {
          await closeContext(context);
        }
      },
    });
  });
  after(async () => {
    if (server) { server.closeAllConnections(); server.close(); }
    for (const identity of identities) await identity.close();
    await svc.close();
  });

  test('ok: the root CRL given at import is served', async () => {
    const res = await fetch(`${svc.url}/pki/crl/root.crl`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), rootCrl);
    assert.equal((await svc.service.context.pki.status()).root!.keyOnline, false);
  });

  test('ok: workloads enroll through the SDK under the imported root and talk mTLS', async () => {
    const identityFor = async (service: string) => {
      const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
      assert.ok(token.endsWith(rootFingerprint), 'the token pins the imported root');
      const identity = await workloadIdentity({ caUrl: svc.service.tlsUrl!, service, joinToken: token });
      identities.push(identity);
      return identity;
    };
    const catalog = await identityFor('catalog');
    const orders = await identityFor('orders');
    server = createMtlsServer((req, res) => res.end(req.spiffeId), { identity: catalog, allow: [{ spiffeId: `spiffe://${TD}/svc/orders` }] });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
    try {
      const res = await request(`https://127.0.0.1:${(server.address() as AddressInfo).port}/books`, { dispatcher: agent });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), `spiffe://${TD}/svc/orders`);
    } finally {
      await agent.close();
    }
  });
});
