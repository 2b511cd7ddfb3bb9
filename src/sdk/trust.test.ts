import { test } from 'node:test';
import assert from 'node:assert/strict';
import { x509, crlToPem, certificatesToPem } from '../x509/index.ts';
import { foreignCa, type Issuer } from '../../test/helpers/pki.ts';
import { craftIntermediate } from '../../test/helpers/pki-import.ts';
import { buildTrust, splitCrls } from './trust.ts';

async function crl(issuer: Issuer, serials: string[] = []): Promise<string> {
  const signed = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 600_000),
    signingKey: issuer.key, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: new Date() })),
  });
  return crlToPem(signed);
}

const issuerOf = async (root: Issuer) => {
  const crafted = await craftIntermediate(root);
  const keys = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(crafted.keyPem), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { cert: crafted.cert, key: keys, pem: crafted.pem };
};

test('ok: concatenated CRL documents — each CRL verified against its own issuer, serials of all counted', async () => {
  const [oldRoot, newRoot] = [await foreignCa('CN=Old Root'), await foreignCa('CN=New Root')];
  const [oldInt, newInt] = [await issuerOf(oldRoot), await issuerOf(newRoot)];
  const bundle = certificatesToPem([oldRoot.cert, newRoot.cert]);
  const crls = { root: (await crl(oldRoot)) + (await crl(newRoot)), intermediate: (await crl(newInt, ['0a01'])) + (await crl(oldInt, ['0b02'])) };
  assert.equal(splitCrls(crls.intermediate).length, 2);
  // Our own chain is the new one; the old intermediate comes from /pki/intermediates.pem.
  const trust = await buildTrust(bundle, crls, [newInt.cert], oldInt.pem);
  assert.deepEqual([...trust.revoked].sort(), ['a01', 'b02']);
  await assert.rejects(buildTrust(bundle, crls, [newInt.cert]), /not signed by a CA we trust/, 'an intermediate CRL whose issuer we do not know');
});

test('fail-foreign-crl: a CRL signed by a CA outside the bundle fails the load; an intermediate no bundle root signed is ignored', async () => {
  const root = await foreignCa('CN=Our Root');
  const int = await issuerOf(root);
  const stranger = await foreignCa('CN=Our Root'); // same name, other key
  const strangerInt = await issuerOf(stranger);
  const bundle = certificatesToPem([root.cert]);
  await assert.rejects(buildTrust(bundle, { root: (await crl(root)) + (await crl(stranger)), intermediate: await crl(int) }, [int.cert]), /not signed by a CA we trust/);
  await assert.rejects(buildTrust(bundle, { root: await crl(root), intermediate: (await crl(int)) + (await crl(strangerInt, ['0c03'])) }, [int.cert], strangerInt.pem), /not signed by a CA we trust/);
});
