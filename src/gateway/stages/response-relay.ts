/**
 * One upstream call, relayed: the upstream's status and headers become the client's (filtered by
 * ../upstream-headers.ts), its body is written into the client's response as it arrives, paced by
 * the response's backpressure. The returned promise settles once the upstream response has ended
 * (fulfilled, after `res.end()`) or failed (rejected with undici's error, before or after the
 * client's headers went out: the caller tells which by `res.headersSent`). A client that goes away
 * aborts the upstream call, even while it still waits for the upstream's headers.
 *
 * undici's dispatch handler interface rather than its `stream()`: `stream()` wraps this same
 * handler in an async resource, a result object and a writable-lifecycle tracker the gateway has
 * no use for, and it notices a departed client only once the upstream answers. The wrapping cost
 * ≈ 5 µs of a bare proxy's ≈ 45 a request (BENCHMARKS.md, "The upstream relay").
 */
import type { Dispatcher } from 'undici';
import { clientResponseHeaders } from '../upstream-headers.ts';
import type { Exchange } from '../exchange.ts';

class ClientGone extends Error {}

class ResponseRelay implements Dispatcher.DispatchHandler {
  readonly exchange: Exchange;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** Once set, a client that goes away no longer aborts anything. */
  settled = false;

  constructor(exchange: Exchange, resolve: () => void, reject: (error: Error) => void) {
    this.exchange = exchange;
    this.resolve = resolve;
    this.reject = reject;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const { res } = this.exchange;
    if (res.destroyed) controller.abort(new ClientGone('the client went away'));
    else res.once('close', () => {
      if (!this.settled) controller.abort(new ClientGone('the client went away'));
    });
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx: interim responses stay between the gateway and the upstream (the client's 100-continue is the gateway's own).
    if (statusCode < 200) return;
    const { exchange } = this;
    exchange.res.writeHead(statusCode, clientResponseHeaders(exchange, headers, exchange.routeState!.hsts));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const { res } = this.exchange;
    if (res.write(chunk)) return;
    controller.pause();
    res.once('drain', () => controller.resume());
  }

  onResponseEnd(): void {
    this.exchange.res.end();
    this.settled = true;
    this.resolve();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settled = true;
    this.reject(error);
  }
}

/** A request body that fails, before or during the call, fails it: undici's own request watches the body. */
export function relayResponse(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, exchange: Exchange): Promise<void> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new ResponseRelay(exchange, resolve, reject));
  });
}
