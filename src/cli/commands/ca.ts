/**
 * `gatehouse ca …` — the internal CA: parse, call the PKI component, print.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { webcrypto, createPrivateKey } from 'node:crypto';
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { writeSecretFile } from '../../config/index.ts';
import { parseDuration } from '../../shared/clock.ts';
import { x509, privateKeyToPem } from '../../x509/index.ts';
import { REVOCATION_REASONS } from '../../pki/index.ts';

const ACTOR = 'cli';

const readPem = (path: string, what: string) => {
  if (!existsSync(path)) throw new CliUsageError(`${what}: no such file ${path}`);
  return readFileSync(path, 'utf8');
};

/** Env var with the passphrase of the exported root key (`--offline-root`) and of encrypted imported keys. */
const PASSPHRASE_ENV = 'GATEHOUSE_ROOT_KEY_PASSPHRASE';

/** A PKCS#8 key file; an encrypted one (BEGIN ENCRYPTED PRIVATE KEY) is decrypted with $GATEHOUSE_ROOT_KEY_PASSPHRASE. */
const readKey = (path: string, what: string): string => {
  const pem = readPem(path, what);
  if (!pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) return pem;
  const passphrase = process.env[PASSPHRASE_ENV];
  if (!passphrase) throw new CliUsageError(`${what}: ${path} is encrypted; set ${PASSPHRASE_ENV} to its passphrase`);
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase }).export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new CliUsageError(`${what}: cannot decrypt ${path} with ${PASSPHRASE_ENV}`);
  }
};

/**
 * The root key leaving the store: PKCS#8 PEM, encrypted (PBES2, AES-256-CBC) when
 * $GATEHOUSE_ROOT_KEY_PASSPHRASE is set, otherwise plain — move it to offline storage either way.
 */
const exportRootKey = (pem: string): { pem: string; encrypted: boolean } => {
  const passphrase = process.env[PASSPHRASE_ENV];
  if (!passphrase) return { pem, encrypted: false };
  return { pem: createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }).toString(), encrypted: true };
};

const seconds = (text: string | undefined, flag: string): number | undefined => {
  if (text === undefined) return undefined;
  try {
    return Math.max(1, Math.round(parseDuration(text) / 1000));
  } catch {
    throw new CliUsageError(`${flag} expects a duration like 90s, 10m or 1h, received ${JSON.stringify(text)}`);
  }
};

/** A CRL file as PEM text, or DER bytes. */
const readCrl = (path: string): string | Uint8Array => {
  const bytes = readFileSync(path);
  const text = bytes.toString('latin1');
  return text.includes('-----BEGIN') ? text : new Uint8Array(bytes);
};

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export function registerCa(program: Command): void {
  const ca = program.command('ca').description('the internal certificate authority (service identities for mTLS)');

  ca.command('init')
    .description('create the root and intermediate CA (also done at first start), or import existing ones')
    .option('--import-root <file>', 'PEM certificate of an existing root CA to import')
    .option('--root-key <file>', 'PKCS#8 PEM key of the imported root, encrypted ones with $GATEHOUSE_ROOT_KEY_PASSPHRASE (omit to keep the root offline; then --root-crl is required)')
    .option('--root-crl <file>', 'current CRL (PEM or DER) signed by the imported root: required without --root-key, served as /pki/crl/root.crl')
    .option('--import-intermediate <file>', 'PEM certificate of an intermediate CA signed by that root')
    .option('--intermediate-key <file>', 'PKCS#8 PEM key of the imported intermediate')
    .option('--offline-root <file>', 'export the root key to <file> (PKCS#8, 0600; encrypted with $GATEHOUSE_ROOT_KEY_PASSPHRASE if set, else unencrypted) and remove it from the store')
    .action(async (options: { importRoot?: string; rootKey?: string; rootCrl?: string; importIntermediate?: string; intermediateKey?: string; offlineRoot?: string }, command: Command) => {
      const importing = options.importRoot !== undefined || options.importIntermediate !== undefined || options.intermediateKey !== undefined || options.rootKey !== undefined || options.rootCrl !== undefined;
      if (importing && (!options.importRoot || !options.importIntermediate || !options.intermediateKey)) {
        throw new CliUsageError('importing needs --import-root, --import-intermediate and --intermediate-key (and --root-key or --root-crl)');
      }
      if (importing && options.rootKey === undefined && options.rootCrl === undefined) {
        throw new CliUsageError('without --root-key the root stays offline and cannot sign its CRL: give its current CRL with --root-crl <file>');
      }
      if (options.rootCrl !== undefined && !existsSync(options.rootCrl)) throw new CliUsageError(`--root-crl: no such file ${options.rootCrl}`);
      if (options.offlineRoot !== undefined && existsSync(options.offlineRoot)) throw new CliUsageError(`--offline-root: ${options.offlineRoot} exists; refusing to overwrite a key file`);
      await withContext(command, async (context) => {
        if (importing) {
          const authority = await context.pki.importAuthority({
            rootPem: readPem(options.importRoot!, '--import-root'),
            rootKeyPem: options.rootKey === undefined ? undefined : readKey(options.rootKey, '--root-key'),
            intermediatePem: readPem(options.importIntermediate!, '--import-intermediate'),
            intermediateKeyPem: readKey(options.intermediateKey!, '--intermediate-key'),
            rootCrl: options.rootCrl === undefined ? undefined : readCrl(options.rootCrl),
          }, ACTOR);
          console.log(`imported CA: root ${authority.root.cert.subject}, intermediate ${authority.intermediate.cert.subject}`);
          console.log(`root fingerprint (SHA-256): ${authority.rootFingerprint}`);
        } else {
          const { created, authority } = await context.pki.ensureInitialized(ACTOR);
          console.log(`${created ? 'created' : 'already initialized'}: root ${authority.root.cert.subject}, intermediate ${authority.intermediate.cert.subject}`);
          console.log(`root fingerprint (SHA-256): ${authority.rootFingerprint}`);
        }
        if (options.offlineRoot !== undefined) {
          const file = options.offlineRoot;
          let encrypted = false;
          // The file is written and fsynced before the key leaves the store: a failed write loses nothing.
          await context.pki.takeRootOffline(ACTOR, (pem) => {
            const exported = exportRootKey(pem);
            if (!writeSecretFile(file, exported.pem, { exclusive: true })) throw new CliUsageError(`--offline-root: ${file} exists; refusing to overwrite a key file`);
            encrypted = exported.encrypted;
          });
          console.log(`root key written to ${file} (0600, ${encrypted ? `encrypted with ${PASSPHRASE_ENV}` : `UNENCRYPTED: set ${PASSPHRASE_ENV} to encrypt it`}) and removed from the store; move it to offline storage`);
        }
      });
    });

  ca.command('rotate')
    .description('rotate the CA in phases: --prepare (new root + intermediate published as "next"), then --activate; or --intermediate alone')
    .option('--prepare', 'create a new root and an intermediate under it (status next); the trust bundle lists both roots from now on')
    .option('--activate', 'make the prepared chain active (new certificates come from it); the old one is retired and stays trusted until its last certificate expires')
    .option('--intermediate', 'replace the intermediate under the same root (needs the root key online); active at once')
    .action(async (options: { prepare?: boolean; activate?: boolean; intermediate?: boolean }, command: Command) => {
      const phases = (['prepare', 'activate', 'intermediate'] as const).filter((p) => options[p]);
      if (phases.length !== 1) throw new CliUsageError('give exactly one of --prepare, --activate or --intermediate');
      const phase = phases[0]!;
      const { result, status } = await withContext(command, async (context) => ({ result: await context.pki.rotate(phase, ACTOR), status: await context.pki.status() }));
      const describe = (id: string) => {
        const ca = status.cas.find((c) => c.id === id);
        return ca ? `${ca.kind} ${ca.subject}${ca.kind === 'root' ? ` (fingerprint ${ca.fingerprint})` : ''}` : id;
      };
      if (phase === 'prepare') {
        console.log(`prepared: ${result.created.map(describe).join(', ')}`);
        console.log('the trust bundle now lists both roots; run `gatehouse ca rotate --activate` once every workload has reloaded it (SDK: within its refreshInterval)');
      } else {
        console.log(`active: ${result.activated.map(describe).join(', ')}`);
        console.log(`retired: ${result.retired.join(', ')} (trusted until their last certificate expires)`);
        if (phase === 'activate') console.log(`join tokens minted from now on pin the new root ${status.root!.fingerprint}; re-mint tokens minted before`);
      }
    });

  ca.command('status')
    .description('show the CA certificates, root fingerprint, CRLs and certificate counts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const status = await withContext(command, (context) => context.pki.status());
      if (options.json) return console.log(JSON.stringify(status, null, 2));
      if (!status.initialized) return console.log('not initialized (run `gatehouse ca init` or start the service)');
      const lines: Array<[string, string]> = [
        ['trust domain', status.trustDomain],
        ['root', `${status.root!.subject} (until ${status.root!.notAfter}, key ${status.root!.keyOnline ? 'online' : 'OFFLINE'})`],
        ['root fingerprint', status.root!.fingerprint],
        ['intermediate', `${status.intermediate!.subject} (until ${status.intermediate!.notAfter})`],
        ['roots in bundle', String(status.bundleRoots)],
        ...status.cas.filter((c) => c.status !== 'active').map((c): [string, string] => [`${c.status} ${c.kind}`, `${c.subject} (${c.kind === 'root' ? `fingerprint ${c.fingerprint}, ` : ''}until ${c.notAfter})`]),
        ...status.crls.map((c): [string, string] => [`${c.issuer} CRL`, `#${c.number}, next update ${iso(c.nextUpdate)} (${c.ca})`]),
        ['certificates', `${status.certificates.valid} valid, ${status.certificates.revoked} revoked (unexpired)`],
      ];
      for (const [key, value] of lines) console.log(`${key.padEnd(18)}${value}`);
    });

  ca.command('token')
    .description('mint a one-time join token for a service instance (prints the token on stdout)')
    .requiredOption('--service <name>', 'service the token enrolls, e.g. orders')
    .option('--ttl <duration>', 'token lifetime, e.g. 10m (default pki.joinTokenTtl, at most pki.maxJoinTokenTtl)')
    .option('--json', 'print JSON with expiry and root fingerprint')
    .action(async (options: { service: string; ttl?: string; json?: boolean }, command: Command) => {
      const ttlSeconds = seconds(options.ttl, '--ttl');
      const minted = await withContext(command, async (context) => {
        await context.pki.ensureInitialized(ACTOR);
        return context.pki.mintJoinToken({ service: options.service, ttlSeconds, createdBy: ACTOR });
      });
      if (options.json) return console.log(JSON.stringify({ ...minted, expiresAt: iso(minted.expiresAt) }, null, 2));
      console.log(minted.token);
      console.error(`join token for ${minted.service}, valid once until ${iso(minted.expiresAt)}; pins root ${minted.rootFingerprint}`);
    });

  ca.command('issue')
    .description('issue a certificate for a service directly (operator path; workloads enroll with a join token)')
    .requiredOption('--service <name>', 'service identity, e.g. orders')
    .option('--csr <file>', 'PEM CSR to sign')
    .option('--key-out <file>', 'without --csr: generate a P-256 key here (0600) and certify it')
    .option('--ttl <duration>', 'certificate lifetime (capped by pki.maxLeafTtl)')
    .option('--out <file>', 'write the chain here instead of stdout')
    .action(async (options: { service: string; csr?: string; keyOut?: string; ttl?: string; out?: string }, command: Command) => {
      if ((options.csr === undefined) === (options.keyOut === undefined)) throw new CliUsageError('give either --csr <file> or --key-out <file>');
      if (options.keyOut !== undefined && existsSync(options.keyOut)) throw new CliUsageError(`--key-out: ${options.keyOut} exists; refusing to overwrite a key file`);
      const ttl = seconds(options.ttl, '--ttl');
      let csrPem: string;
      let keyPem: string | undefined;
      if (options.csr !== undefined) {
        csrPem = readPem(options.csr, '--csr');
      } else {
        const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
        csrPem = (await x509.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: [options.service] }], keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })).toString('pem');
        keyPem = await privateKeyToPem(keys.privateKey);
      }
      const issued = await withContext(command, (context) => context.pki.issue({ csr: csrPem, service: options.service, ttl, actor: ACTOR }));
      if (keyPem !== undefined) writeSecretFile(options.keyOut!, keyPem);
      if (options.out !== undefined) writeFileSync(options.out, issued.certificate);
      else process.stdout.write(issued.certificate);
      console.error(`issued ${issued.spiffeId}, serial ${issued.serial}, valid until ${iso(issued.notAfter)}`);
    });

  ca.command('list')
    .description('list issued certificates (newest first)')
    .option('--service <name>', 'only this service')
    .option('--status <status>', 'valid or revoked')
    .option('--json', 'print JSON')
    .action(async (options: { service?: string; status?: string; json?: boolean }, command: Command) => {
      if (options.status !== undefined && options.status !== 'valid' && options.status !== 'revoked') throw new CliUsageError(`--status expects valid or revoked, received ${options.status}`);
      const rows = await withContext(command, (context) => context.pki.list({ service: options.service, status: options.status as 'valid' | 'revoked' | undefined }));
      const now = Date.now() / 1000;
      printRows(rows.map((r) => ({
        serial: r.serial,
        service: r.service,
        status: r.status === 'valid' && Number(r.not_after) <= now ? 'expired' : r.status,
        notAfter: iso(Number(r.not_after)),
        sans: Object.values(JSON.parse(r.sans) as Record<string, string[]>).flat(),
        requestedBy: r.requested_by,
      })), options.json);
    });

  ca.command('revoke')
    .description('revoke by serial, or every valid certificate of a service; re-signs the CRL and notifies subscribers')
    .option('--serial <serial>', 'certificate serial (hex; colons and leading zeros ignored)')
    .option('--service <name>', 'revoke every valid certificate of this service')
    .option('--reason <reason>', REVOCATION_REASONS.join(', '), 'unspecified')
    .action(async (options: { serial?: string; service?: string; reason: string }, command: Command) => {
      if ((options.serial === undefined) === (options.service === undefined)) throw new CliUsageError('give exactly one of --serial or --service');
      if (!REVOCATION_REASONS.includes(options.reason)) throw new CliUsageError(`--reason expects one of ${REVOCATION_REASONS.join(', ')}, received ${options.reason}`);
      const result = await withContext(command, (context) => context.pki.revoke({ serial: options.serial, service: options.service, reason: options.reason, actor: ACTOR }));
      console.log(`revoked ${result.serials.length} certificate(s) of ${result.services.join(', ')}: ${result.serials.join(', ')} (intermediate CRL #${result.crlNumber})`);
    });

  ca.command('crl')
    .description('print the current CRL (PEM)')
    .option('--issuer <ca>', 'root or intermediate', 'intermediate')
    .option('--refresh', 're-sign the CRLs now')
    .action(async (options: { issuer: string; refresh?: boolean }, command: Command) => {
      if (options.issuer !== 'root' && options.issuer !== 'intermediate') throw new CliUsageError(`--issuer expects root or intermediate, received ${options.issuer}`);
      const crl = await withContext(command, async (context) => {
        if (options.refresh) await context.pki.refreshCrls(true);
        return context.pki.crl(options.issuer as 'root' | 'intermediate');
      });
      process.stdout.write(crl.pem);
      console.error(`${options.issuer} CRL #${crl.number}, next update ${iso(crl.nextUpdate)}`);
    });
}
