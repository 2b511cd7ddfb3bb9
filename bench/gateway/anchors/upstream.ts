/**
 * The benchmark's upstream: node:http, a fixed 102-byte JSON body, keep-alive. Every target
 * forwards to one instance of it on the load core (the "upstream direct" row starts a second one
 * alone on the core under test). PORT from the environment; loopback only.
 */
import http from 'node:http';

const body = Buffer.from(JSON.stringify({
  ok: true, service: 'orders', items: [{ id: 1, sku: 'A-100', qty: 2 }, { id: 2, sku: 'B-200', qty: 1 }],
}));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`upstream :${process.env.PORT} body=${body.length}B`));
