/**
 * HAProxy 2.6 with native `jwt_verify` (ES256, PEM public key) plus iss/aud/exp and the route's
 * role check, one thread (pinned with taskset), keep-alive on both sides.
 */
export interface HaproxyJwtOptions { port: number; upstreamPort: number; publicKeyFile: string; issuer: string; audience: string }

export function haproxyJwtConfig(o: HaproxyJwtOptions): string {
  return `global
    nbthread 1
    maxconn 4000

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    option http-keep-alive
    http-reuse always

frontend fe
    bind 127.0.0.1:${o.port}
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
    http-request deny deny_status 401 unless { var(txn.alg) -m str ES256 }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${o.publicKeyFile}") -m int 1 }
    http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
    http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
    http-request set-var(txn.role0) var(txn.bearer),jwt_payload_query('$.roles[0]')
    http-request set-var(txn.now) date()
    http-request deny deny_status 401 unless { var(txn.iss) -m str ${o.issuer} }
    http-request deny deny_status 401 unless { var(txn.aud) -m str ${o.audience} }
    http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int le 0 }
    http-request deny deny_status 403 if { path /api/orders } !{ var(txn.role0) -m str orders-reader }
    default_backend be

backend be
    server up 127.0.0.1:${o.upstreamPort} maxconn 1000
`;
}
