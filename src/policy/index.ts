/**
 * Policy: roles → permissions, decisions as values. Pure (imports nothing but types), shared by
 * the Security Service, the gateway and the SDK.
 */
export { compilePolicy, type CompiledPolicy, type PolicyDocument } from './compile.ts';
export { compilePermissions, type PermissionSet } from './permissions.ts';
export { can, type Decision, type DecisionContext, type DecisionReason } from './decide.ts';
export { registerPolicyRoutes, etagMatches, type PolicyRouteOptions } from './routes.ts';
