/**
 * `npm start` — the all-in-one demo: the Security Service on the embedded SQLite store with demo
 * users, clients, a landing page and a sign-in demo. Takes the same `--data-dir` and `--config`
 * as every gatehouse command (`npm start -- --data-dir /tmp/gh`).
 */
import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfig } from '../../src/config/index.ts';
import { createSecurityService } from '../../src/service.ts';
import { stopOnSignal, exitWithFailure } from '../../src/process.ts';
import { seedDemo, applyDemoPasswordOverride } from './seed.ts';
import { registerDemoPages } from './demo-pages.ts';

const program = new Command('npm start')
  .description('Gatehouse demo: the Security Service with demo users alice, bob and carol')
  .option('-c, --config <path>', 'gatehouse.yaml to read (env GATEHOUSE_CONFIG; default ./gatehouse.yaml if present)')
  .option('-d, --data-dir <path>', 'data directory (env GATEHOUSE_DATA_DIR; default ./.gatehouse)')
  .option('-p, --port <port>', 'port of the HTTP listener (env GATEHOUSE_PORT; default 8080); the default issuer follows it')
  .action(async (options: { config?: string; dataDir?: string; port?: string }) => {
    const config = loadConfig({ configPath: options.config, dataDir: options.dataDir, port: options.port });
    const service = await createSecurityService({ config });
    const seed = await seedDemo(service.context, process.env);
    await applyDemoPasswordOverride(service.context, seed, process.env);
    registerDemoPages(service.app, service.context);
    const listening = await service.listen();
    const { issuer } = config;
    // An explicit issuer on another port means a proxy or gateway in front: say where we really are.
    const behindProxy = new URL(issuer).port !== new URL(listening).port;
    const lines = [
      '',
      `  Gatehouse demo is running at ${issuer}`,
      ...(behindProxy ? [`  (listening on ${listening}; ${issuer} is the issuer set in the configuration and must reach it)`] : []),
      '',
      `  sign-in demo  ${issuer}/demo/signin`,
      `  discovery     ${issuer}/.well-known/openid-configuration`,
      `  policy        ${issuer}/policy`,
      `  CA bundle     ${issuer}/pki/bundle.pem   (TLS listener ${service.tlsUrl ?? '-'})`,
      '',
      '  users         alice (customer), bob (staff), carol (admin)',
      `  password      ${seed.password}${process.env.GATEHOUSE_DEMO_PASSWORD ? '   (GATEHOUSE_DEMO_PASSWORD)' : '   (random; set GATEHOUSE_DEMO_PASSWORD to choose it)'}`,
      '',
      '  clients',
      ...seed.clients.flatMap((c) => [`    ${c.clientId.padEnd(16)} ${c.note}`, ...(c.secret ? [`    ${''.padEnd(16)} secret: ${c.secret}`] : [])]),
      '',
      `  data          ${config.dataDir} (demo secrets in demo.json, mode 0600)`,
      '  stop          Ctrl-C',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    stopOnSignal(() => service.close());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  exitWithFailure(error);
}
