/**
 * The gateway benchmark's markdown, ready for BENCHMARKS.md: how it was run, one table per pass,
 * the means with the ratios the targets are stated in, the verdicts, and the revocation latency.
 */
import { errorsOf } from './wrk.ts';
import type { RowResult } from './measure.ts';
import type { RevocationResult } from './revocation.ts';
import type { RowName } from './targets.ts';
import { table, fmt } from '../lib.ts';

export interface ReportInput {
  heading: string[];
  results: RowResult[];
  skipped: Array<{ row: string; why: string }>;
  revocation: RevocationResult | { skipped: string };
}

const ms = (us: number) => fmt(us / 1000, 2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuPerRequest = (r: RowResult) => (r.window.sutCpu / r.window.wrk.requests) * 1e6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] ?? NaN;
}

/** `byPass`: each pass's window of the row, by pass number (a failed window is absent). */
interface Summary { rps: number; p50: number; p99: number; cpuUs: number; byPass: Map<number, { rps: number; p99: number }>; label: string }

function summarize(results: RowResult[]): Map<string, Summary> {
  const out = new Map<string, Summary>();
  for (const row of new Set(results.map((r) => r.row))) {
    const rs = results.filter((r) => r.row === row);
    out.set(row, {
      label: rs[0]!.label,
      byPass: new Map(rs.map((r) => [r.pass, { rps: r.window.wrk.rps, p99: r.window.wrk.p99_us }])),
      rps: mean(rs.map((r) => r.window.wrk.rps)),
      p50: mean(rs.map((r) => r.window.wrk.p50_us)),
      p99: mean(rs.map((r) => r.window.wrk.p99_us)),
      cpuUs: mean(rs.map(cpuPerRequest)),
    });
  }
  return out;
}

function perPassTables(results: RowResult[]): string[] {
  const out: string[] = [];
  for (const pass of [...new Set(results.map((r) => r.pass))]) {
    out.push(`#### Pass ${pass}`, '', table(
      ['target', 'sanity (valid/none/bad sig/no role)', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req (process under test)', 'SUT cores busy', 'peak RSS MB', 'upstream cores', 'wrk cores', 'issuer cores', 'other procs cores', 'steal cores', 'errors/non-2xx'],
      results.filter((r) => r.pass === pass).map((r) => {
        const w = r.window;
        const secs = w.wrk.duration_us / 1e6;
        return [
          `${r.row}${r.wrapped ? ' (token list wrapped)' : ''}`, `${r.sanity} ${r.codes}`, fmt(w.wrk.rps), ms(w.wrk.p50_us), ms(w.wrk.p99_us), fmt(cpuPerRequest(r)),
          fmt(w.sutCpu / secs, 2), fmt(r.peakRssKb / 1024), fmt(w.upstreamCpu / secs, 2), fmt(w.wrkCpu / secs, 2), fmt(w.issuerCpu / secs, 2),
          `${fmt(w.foreignCores, 2)}${r.attempt > 0 ? ` (window ${r.attempt + 1})` : ''}`, fmt(w.stealCores, 2), fmt(errorsOf(w.wrk)),
        ];
      }),
    ), '');
  }
  return out;
}

function ratio(a: Summary | undefined, b: Summary | undefined): string {
  return a === undefined || b === undefined ? '–' : `${fmt(a.rps / b.rps, 2)}×`;
}

function meansTable(s: Map<string, Summary>): string {
  const bare = s.get('node');
  return table(
    ['target', 'what', 'req/s per pass', 'mean req/s', '× bare proxy', '× HAProxy', '× fastify', '× one-verification bound', 'p50 ms', 'p99 ms', 'p99 × bare proxy', 'CPU µs/req'],
    [...s].map(([row, m]) => [
      row, m.label, [...m.byPass.values()].map((w) => fmt(w.rps)).join(' / '), fmt(m.rps), ratio(m, bare), ratio(m, s.get('haproxy-jwt')), ratio(m, s.get('fastify')), ratio(m, s.get('node-jose')),
      ms(m.p50), ms(m.p99), bare ? `${fmt(m.p99 / bare.p99, 2)}×` : '–', fmt(m.cpuUs),
    ]),
  );
}

function verdicts(s: Map<string, Summary>, revocation: ReportInput['revocation']): string {
  const get = (row: RowName) => s.get(row);
  const rows: Array<[string, string, string, string, string, string]> = [];
  // The verdict is the median of the passes' ratios: each pass measures a row seconds from its
  // anchor, so a pass's ratio cancels the drift of this VM's speed that moves whole windows by up
  // to 2× minute to minute; the ratio of the means is shown beside it.
  const check = (target: string, a: Summary | undefined, b: Summary | undefined, needed: number, field: 'rps' | 'p99' = 'rps') => {
    const atMost = field === 'p99';
    const required = `${atMost ? '≤' : '≥'} ${fmt(needed, 2)}×`;
    if (a === undefined || b === undefined) { rows.push([target, required, 'not measured', '–', '–', '–']); return; }
    // Pairs of windows of the same pass (a pass whose window failed for either row has no ratio).
    const ratios = [...a.byPass].flatMap(([pass, window]) => {
      const anchor = b.byPass.get(pass);
      return anchor === undefined ? [] : [window[field] / anchor[field]];
    });
    const value = median(ratios);
    const perPass = ratios.map((r) => `${fmt(r, 2)}`).join(' / ');
    rows.push([target, required, `**${fmt(value, 2)}×**`, `${fmt(a[field] / b[field], 2)}×`, perPass, (atMost ? value <= needed : value >= needed) ? 'met' : '**missed**']);
  };
  const reuse = get('gateway-reuse');
  check('token reused: req/s vs the bare Node proxy', reuse, get('node'), 0.85);
  check('token reused: req/s vs HAProxy jwt_verify', reuse, get('haproxy-jwt'), 2);
  check('token reused: req/s vs fastify + @fastify/jwt + @fastify/http-proxy', reuse, get('fastify'), 4);
  check('token reused: p99 latency vs the bare Node proxy', reuse, get('node'), 1.5, 'p99');
  check('fresh token per request: req/s vs the one-verification bound', get('gateway-fresh'), get('node-jose'), 0.9);
  if ('skipped' in revocation) rows.push(['revocation reaching the gateway, p99', '≤ 1,000 ms', `not measured (${revocation.skipped})`, '–', '–', '–']);
  else {
    const sorted = [...revocation.samples].sort((a, b) => a - b);
    const p99 = revocation.timedOut > 0 ? Infinity : quantile(sorted, 0.99);
    rows.push(['revocation reaching the gateway, p99', '≤ 1,000 ms', Number.isFinite(p99) ? `${fmt(p99)} ms` : `${revocation.timedOut} sample(s) never refused`, '–', '–', p99 <= 1000 ? 'met' : '**missed**']);
  }
  return table(['target (issue 6)', 'required', 'measured: median of the passes\' ratios', 'ratio of the means', 'ratio per pass', 'verdict'], rows);
}

function revocationTable(r: RevocationResult): string {
  const sorted = [...r.samples].sort((a, b) => a - b);
  const disable = [...r.disableMs].sort((a, b) => a - b);
  return table(
    ['samples', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'never refused (10 s)', 'admin API disable call p50 / p99 ms', 'background load'],
    [[fmt(r.samples.length + r.timedOut), fmt(quantile(sorted, 0.5)), fmt(quantile(sorted, 0.9)), fmt(quantile(sorted, 0.99)), fmt(sorted.at(-1) ?? NaN), String(r.timedOut),
      `${fmt(quantile(disable, 0.5))} / ${fmt(quantile(disable, 0.99))}`, `${fmt(r.backgroundRps)} req/s (reused token)`]],
  );
}

/** Below this share of its core the process under test was not what limited the window (the load core was). */
const SATURATED = 0.9;

function warnings(results: RowResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const busy = r.window.sutCpu / (r.window.wrk.duration_us / 1e6);
    const problems = [
      r.sanity !== 'pass' ? `answered ${r.codes} (valid/none/bad sig/no role) instead of 200/401/401/403` : '',
      busy < SATURATED ? `used only ${busy.toFixed(2)} of its core: the load side limited the window, not the target` : '',
      r.window.foreignCores > 0.2 ? `other processes used ${r.window.foreignCores.toFixed(2)} cores during the quietest window` : '',
      errorsOf(r.window.wrk) > 0 ? `${errorsOf(r.window.wrk)} errors or non-2xx answers` : '',
    ].filter(Boolean);
    if (problems.length > 0) out.push(`- **pass ${r.pass} ${r.row}**: ${problems.join('; ')}`);
  }
  return out.length > 0 ? ['Windows that do not measure what they should (run again on a quiet machine):', '', ...out, ''] : [];
}

export function renderReport(input: ReportInput): string {
  const s = summarize(input.results);
  const out = [...input.heading, ''];
  if (input.skipped.length > 0) out.push(...input.skipped.map((k) => `- **skipped** ${k.row}: ${k.why}`), '');
  out.push(...warnings(input.results));
  if (input.results.length > 0) {
    out.push('#### Means of the passes', '', meansTable(s), '');
    out.push('#### Targets', '', verdicts(s, input.revocation), '');
  }
  out.push('#### Revocation latency (disable a user at the Security Service → the gateway answers 401)', '');
  out.push('skipped' in input.revocation ? `not measured: ${input.revocation.skipped}` : revocationTable(input.revocation), '');
  if (input.results.length > 0) out.push(...perPassTables(input.results));
  return out.join('\n');
}
