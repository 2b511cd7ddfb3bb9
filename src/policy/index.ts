/**
 * Policy: roles → permissions, decisions as values. Pure (only routes.ts, the /policy endpoint,
 * imports the shared HTTP cache helper), shared by the Security Service, the gateway and the SDK.
 */
export { compilePolicy, type CompiledPolicy, type PolicyDocument } from './compile.ts';
export { compilePermissions, type PermissionSet } from './permissions.ts';
export { can, type Decision, type DecisionContext, type DecisionReason } from './decide.ts';
export { registerPolicyRoutes, type PolicyRouteOptions } from './routes.ts';
