/**
 * The rows' processes and their windows. Every row's process is started once, checked (200 / 401 /
 * 401 / 403) and warmed up, and stays up, idle on CPU_SUT, while the others are measured; the
 * windows then go round the rows, pass after pass. Rows measured seconds apart see the same
 * machine — this VM's speed drifts by tens of percent over minutes, which a row measured minutes
 * after its anchor would carry into the ratio — and ./report.ts takes each pass's ratios from
 * windows of that pass only.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineCpu, selfCpuSeconds, waitHttp, type Pinned } from './processes.ts';
import { runWrk, type WrkNumbers, type TokenFeed } from './wrk.ts';
import { URL_PATH, type Row, type RowContext } from './targets.ts';

export interface Settings {
  duration: string;
  warmup: string;
  connections: number;
  threads: number;
  noiseMax: number;
  noiseRetries: number;
  /** wrk before each window: the upstream closes idle keep-alive connections while a row waits its turn. */
  rewarm: string;
}

export interface Tokens {
  reuse: string;
  noRole: string;
  badSignature: string;
  /** File of distinct tokens, one per line, and how many. */
  freshFile: string;
  freshCount: number;
}

export interface Window {
  wall: number;
  sutCpu: number;
  upstreamCpu: number;
  wrkCpu: number;
  issuerCpu: number;
  /** Busy CPU seconds of everything else on the machine (other helpers, the kernel's own threads …). */
  foreignCores: number;
  stealCores: number;
  sutCoreBusy: number;
  loadCoreBusy: number;
  wrk: WrkNumbers;
}

export interface RowResult {
  pass: number;
  row: string;
  label: string;
  /** `pass` or `FAIL`, and the codes: valid / no token / bad signature / no role. */
  sanity: string;
  codes: string;
  /** 0 = first window; n = measured again n times because of noise. */
  attempt: number;
  window: Window;
  peakRssKb: number;
  /** Fresh tokens: the token file wrapped around (tokens were sent twice, ≥ tokens − in-flight apart). */
  wrapped: boolean;
}

async function status(url: string, token?: string): Promise<number> {
  try {
    const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** A row's process, started, checked and warmed up, kept running between its windows. */
export interface RunningRow {
  row: Row;
  ctx: RowContext;
  proc: Pinned;
  url: string;
  sanity: string;
  codes: string;
  /** Next fresh token to send (the token file's line). */
  cursor: number;
}

/** Starts the row's process on CPU_SUT, checks that it behaves (200 / 401 / 401 / 403) and warms it up. */
export async function startRow(row: Row, ctx: RowContext, tokens: Tokens, settings: Settings, log: (line: string) => void): Promise<RunningRow> {
  const proc = row.start(ctx);
  try {
    const base = `http://127.0.0.1:${ctx.port}`;
    await Promise.race([
      waitHttp(`${base}${row.readyPath ?? URL_PATH}`, 60_000, (code) => row.readyPath === undefined || code === 200),
      proc.exited.then((code) => { throw new Error(`${row.name} exited (${code}) before it was ready: see ${proc.logFile}`); }),
    ]);
    const url = `${base}${URL_PATH}`;
    const ok = await status(url, row.freshTokens ? lastLine(tokens) : tokens.reuse);
    const codes = row.auth ? [ok, await status(url), await status(url, tokens.badSignature), await status(url, tokens.noRole)] : [ok];
    const sane = codes[0] === 200 && (!row.auth || (codes[1] === 401 && codes[2] === 401 && codes[3] === 403));
    const running: RunningRow = { row, ctx, proc, url, sanity: sane ? 'pass' : 'FAIL', codes: codes.join('/'), cursor: 0 };
    log(`${row.name}: sanity ${running.sanity} (${running.codes})`);
    await load(running, tokens, settings, settings.warmup);
    return running;
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** wrk against the row for `duration`, fresh tokens going on from where the last run stopped. */
async function load(running: RunningRow, tokens: Tokens, settings: Settings, duration: string) {
  const feed: TokenFeed = running.row.freshTokens ? { kind: 'file', file: tokens.freshFile, start: running.cursor } : { kind: 'one', token: tokens.reuse };
  const run = await runWrk({ url: running.url, connections: settings.connections, threads: settings.threads, duration, feed });
  running.cursor += run.numbers.requests + settings.connections;
  return run;
}

/**
 * One measured window of a running row: a short warm-up (connections the upstream closed while
 * the row sat idle are opened again), then the window, accounting for every CPU second of the
 * machine during it. When other processes used more than NOISE_MAX cores, the window is measured
 * again (up to NOISE_RETRIES times) and the quietest one is kept.
 */
export async function measureWindow(running: RunningRow, pass: number, others: { upstream: Pinned; issuer: Pinned }, tokens: Tokens, settings: Settings, log: (line: string) => void): Promise<RowResult> {
  const { row, proc, ctx } = running;
  await load(running, tokens, settings, settings.rewarm);
  let best: { window: Window; attempt: number } | undefined;
  for (let attempt = 0; attempt <= settings.noiseRetries; attempt++) {
    const t0 = performance.now();
    const m0 = machineCpu();
    const c0 = { sut: proc.cpuSeconds(), up: others.upstream.cpuSeconds(), issuer: others.issuer.cpuSeconds(), self: selfCpuSeconds() };
    const run = await load(running, tokens, settings, settings.duration);
    const wall = (performance.now() - t0) / 1000;
    const m1 = machineCpu();
    const c1 = { sut: proc.cpuSeconds(), up: others.upstream.cpuSeconds(), issuer: others.issuer.cpuSeconds(), self: selfCpuSeconds() };
    appendFileSync(join(ctx.workDir, `${ctx.tag}.pass${pass}.try${attempt}.wrk.txt`), run.output);
    const w: Window = {
      wall,
      sutCpu: c1.sut - c0.sut,
      upstreamCpu: c1.up - c0.up,
      wrkCpu: run.cpuSeconds,
      issuerCpu: c1.issuer - c0.issuer,
      foreignCores: 0,
      stealCores: (m1.steal - m0.steal) / wall,
      sutCoreBusy: (m1.sutCore - m0.sutCore) / wall,
      loadCoreBusy: (m1.loadCore - m0.loadCore) / wall,
      wrk: run.numbers,
    };
    // Everything busy on the machine that is not ours: the harness itself is mostly asleep, but counts as ours.
    const ours = w.sutCpu + w.upstreamCpu + w.wrkCpu + w.issuerCpu + (c1.self - c0.self);
    w.foreignCores = Math.max(0, (m1.busy - m0.busy) - (m1.steal - m0.steal) - ours) / wall;
    if (best === undefined || w.foreignCores < best.window.foreignCores) best = { window: w, attempt };
    if (w.foreignCores <= settings.noiseMax) break;
    if (attempt < settings.noiseRetries) log(`  ${row.name}: other processes used ${w.foreignCores.toFixed(2)} cores during the window (> ${settings.noiseMax}): measuring again`);
  }
  const result: RowResult = {
    pass, row: row.name, label: row.label, sanity: running.sanity, codes: running.codes,
    attempt: best!.attempt, window: best!.window, peakRssKb: proc.peakRssKb(),
    wrapped: row.freshTokens && running.cursor > tokens.freshCount,
  };
  log(`pass ${pass} ${row.name}: ${Math.round(result.window.wrk.rps)} req/s, p99 ${(result.window.wrk.p99_us / 1000).toFixed(2)} ms, ${((result.window.sutCpu / result.window.wrk.requests) * 1e6).toFixed(0)} CPU µs/req, other procs ${result.window.foreignCores.toFixed(2)} cores`);
  return result;
}

let last: { file: string; token: string } | undefined;
/** The last minted token: the fresh-token row's "valid token" check uses it, so no token of the window is cached by the check. */
function lastLine(tokens: Tokens): string {
  if (last?.file !== tokens.freshFile) {
    const lines = readFileSync(tokens.freshFile, 'utf8').trimEnd().split('\n');
    last = { file: tokens.freshFile, token: lines.at(-1)! };
  }
  return last.token;
}
