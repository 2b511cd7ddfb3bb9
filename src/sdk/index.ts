/**
 * `@gatehouse/sdk` (built into packages/sdk; `gatehouse/sdk` inside this repository) — what a
 * service imports. Nothing here reaches into the Security Service's code (store, oauth, identity,
 * admin, cli, pki): a test enforces it. docs/sdk.md documents it.
 */
export { workloadIdentity, type WorkloadIdentity, type WorkloadIdentityOptions, type Credentials, type IdentityEvent, type SdkLogger } from './workload-identity.ts';
export { createMtlsServer, peerIdentity, type MtlsRequest, type MtlsServerOptions, type PeerIdentity } from './mtls-server.ts';
export { mtlsAgent, type MtlsAgentOptions } from './mtls-agent.ts';
export { compileAllow, type AllowRule, type Decision } from './allow.ts';
export { CaRequestError } from './ca-client.ts';
export { splitCrls } from './trust.ts';
export { parseSpiffeId, spiffeIdFor, type SpiffeId } from '../x509/index.ts';
export { VerificationError, VerifierUnavailableError, type Identity, type Verifier, type VerifierStatus, type TokenSource } from './verify/types.ts';
export { createVerifier, type VerifierOptions } from './verify/verifier.ts';
export { clientCredentials, type ClientCredentialsOptions } from './verify/token-source.ts';
export type { Decision as PolicyDecision } from '../policy/decide.ts';
export { subscribeToEventStream, createSseParser, type EventStreamOptions, type EventStreamSubscription } from './event-stream.ts';
export { EVENT_TYPE_URIS, SET_TYP, decodeSet, type SecurityEvent, type SecurityEventType, type PublishedEvent, type TokensRevoked, type CertificateRevoked, type KeysRotated, type PolicyChanged } from '../shared/security-events.ts';
export { bearerAuthenticator, bearerTokenOf, type BearerOptions, type BearerRequest, type BearerOutcome, type Refusal } from './middleware/bearer.ts';
export { nodeHttpAuth, type RequestWithIdentity } from './middleware/node-http.ts';
export { expressAuth, type ExpressMiddleware } from './middleware/express.ts';
export { fastifyAuth, type FastifyLikeRequest, type FastifyLikeReply } from './middleware/fastify.ts';
