/**
 * The distinct tokens of the "fresh token per request" row, one per line in a file. Preferred: a
 * bench ES256 key whose public half the issuer publishes in its JWKS (`gatehouse keys import
 * --verify-only`), signing copies of a real access token's claims with a new jti each (jose,
 * seconds for 100k). Where that command does not exist yet, every token comes from the issuer's
 * token endpoint instead (a minute or two for 100k).
 */
import { writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import type { Issuer } from './issuer.ts';

const KID = 'gatehouse-bench-fresh';

/** Writes `count` tokens to `file`; returns one sentence on how they were made, for the report. */
export async function writeFreshTokens(issuer: Issuer, template: string, count: number, file: string, workDir: string, log: (line: string) => void): Promise<string> {
  const started = performance.now();
  if (!issuer.canImportVerifyOnlyKeys()) {
    log(`minting ${count} tokens through the token endpoint (\`keys import --verify-only\` is not in this checkout; the issuer may use both cores meanwhile)`);
    await issuer.mintTokens(count, file, log);
    log(`  ${count} tokens in ${seconds(started)} s`);
    return `${count.toLocaleString('en-US')} distinct client_credentials tokens minted through the issuer's token endpoint before pass 1 (this checkout has no \`gatehouse keys import --verify-only\`) in ${seconds(started)} s`;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pemFile = join(workDir, 'bench-fresh-public.pem');
  writeFileSync(pemFile, publicKey.export({ type: 'spki', format: 'pem' }));
  issuer.importVerifyOnlyKey(pemFile, KID);
  log(`signing ${count} tokens with a bench key the issuer publishes (keys import --verify-only, kid ${KID})`);
  const claims = decodeJwt(template);
  const now = Math.floor(Date.now() / 1000);
  const signed: string[] = [];
  for (let i = 0; i < count; i++) {
    signed.push(await new SignJWT({ ...claims, jti: randomUUID(), iat: now, exp: now + 3 * 3600 })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: KID })
      .sign(privateKey));
  }
  writeFileSync(file, `${signed.join('\n')}\n`);
  log(`  ${count} tokens in ${seconds(started)} s`);
  return `${count.toLocaleString('en-US')} distinct tokens signed in ${seconds(started)} s by a bench ES256 key that the issuer publishes in its JWKS (\`gatehouse keys import --verify-only\`, kid \`${KID}\`), each a copy of a real client_credentials access token's claims with its own \`jti\``;
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(0);
