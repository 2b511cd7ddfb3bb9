/**
 * Hot reload of the route rules: a changed file is picked up, SIGHUP-equivalent `reload()` re-reads,
 * and a bad file is refused with one log line while the running rules stay.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAuth, startGateway, startRecordingUpstream, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let api: RecordingUpstream;

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
});
after(async () => {
  await api?.close();
  await auth?.close();
});

const first = [{ methods: ['GET'], path: '/api/one', service: 'api', auth: 'public' }];
const second = [...first, { methods: ['GET'], path: '/api/two', service: 'api', auth: 'public' }];
const status = async (gw: GatewayFixture, path: string) => (await fetch(`${gw.url}${path}`)).status;
const refusals = (gw: GatewayFixture) => gw.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('routes reload refused'));

test('ok: a changed config file is picked up without a restart', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes: first });
  try {
    assert.equal(await status(gw, '/api/two'), 404);
    gw.writeRoutes(second);
    await waitFor(async () => (await status(gw, '/api/two')) === 200, 5000, 'the new route never appeared');
    assert.equal(await status(gw, '/api/one'), 200);
  } finally {
    await gw.close();
  }
});

test('fail-bad-file: a broken file is refused with one log line and the old rules stay', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes: second });
  try {
    writeFileSync(gw.configPath, 'routes: [ {methods: [GET], path: /api/one\n');
    await waitFor(() => refusals(gw).length === 1, 5000, 'no refusal was logged');
    const [line] = refusals(gw);
    assert.equal(line!.level, 50);
    assert.match(String(line!.msg), /gatehouse\.yaml: not valid YAML/);
    assert.equal(await status(gw, '/api/one'), 200);
    assert.equal(await status(gw, '/api/two'), 200);
  } finally {
    await gw.close();
  }
});

test('fail-bad-rule: a rule naming an unknown service is refused by reload(), naming the rule', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes: first });
  try {
    gw.writeRoutes([...first, { methods: ['GET'], path: '/api/three', service: 'nowhere', auth: 'public' }]);
    const result = gw.gateway.reload();
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : '', /routes\[1\]\.service: unknown service "nowhere"/);
    assert.equal(await status(gw, '/api/one'), 200);
    assert.equal(await status(gw, '/api/three'), 404);
  } finally {
    await gw.close();
  }
});

test('ok: reload() (what SIGHUP does) applies a changed routes file', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes: first, gateway: { routesFile: 'routes.yaml' }, files: { 'routes.yaml': 'routes: []\n' } });
  try {
    assert.equal(await status(gw, '/api/two'), 404);
    writeFileSync(join(gw.dir, 'routes.yaml'), 'routes:\n  - { methods: [GET], path: /api/two, service: api, auth: public }\n');
    assert.deepEqual(gw.gateway.reload(), { ok: true });
    assert.equal(await status(gw, '/api/two'), 200);
    assert.equal(await status(gw, '/api/one'), 200, 'the config file\'s own routes stay');
  } finally {
    await gw.close();
  }
});

test('fail-missing-routes-file: a routes file that cannot be read stops the start', async () => {
  await assert.rejects(startGateway(auth, { services: { api: [api.url] }, routes: first, gateway: { routesFile: 'missing.yaml' } }), /missing\.yaml: cannot read the file \(ENOENT\)/);
});
