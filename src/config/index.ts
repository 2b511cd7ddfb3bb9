export { configSchema, type Config, type ConfigInput } from './schema.ts';
export { loadConfig, ConfigError, formatIssues, type LoadOptions } from './load.ts';
export { ensureDataDir, loadMasterKey, decodeMasterKey, loadCookieKeys, loadOrCreateSecret, writeSecretFile, readSecretFile } from './secrets.ts';
export type { IdentityProviderConfig, RoleRule } from './identity-providers-schema.ts';
