/**
 * X.509 certificates and SPIFFE identities: the vocabulary the CA (src/pki) and workloads
 * (src/sdk) share — certificate parsing and key/CSR generation, SPIFFE IDs, the checks a peer
 * applies to a workload certificate, and the join-token format. Pure: no store, no server code,
 * so the SDK package can ship it.
 */
export * from './x509.ts';
export * from './spiffe.ts';
export * from './leaf-check.ts';
export * from './join-token.ts';
