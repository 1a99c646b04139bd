// Seeded fault injection for the sandbox platform. A decision is a pure function of
// (seed, rule, request id, delivery number), so a run replays exactly; the delivery
// number lets a resend of an id that was never recorded draw a fresh decision.
import { createHash } from 'node:crypto';
import { FAILURE_CODES, type FailureCode } from '../channel/types.ts';

export const FAULT_OPS = ['collect', 'payout', 'debit', 'withdraw', 'balance', 'query', '*'] as const;
export type FaultOp = (typeof FAULT_OPS)[number];

export type FaultRule =
  | { op: FaultOp; rate: number; kind: 'fail'; code: FailureCode }
  /** The HTTP call hangs `ms` and the connection is dropped; the request applied or not. */
  | { op: FaultOp; rate: number; kind: 'timeout'; applied: boolean; ms: number }
  | { op: FaultOp; rate: number; kind: 'delay'; ms: number };

export interface FaultPlan {
  seed: string;
  rules: readonly FaultRule[];
}

export interface FaultDecision {
  fail?: FailureCode;
  timeout?: { applied: boolean; ms: number };
  delayMs: number;
}

export const NO_FAULTS: FaultPlan = { seed: '0', rules: [] };

/** Throws a message naming the JSON path when the plan is malformed. */
export function parseFaultPlan(body: unknown): FaultPlan {
  const fail = (at: string, why: string): never => {
    throw new Error(`${at}: ${why}`);
  };
  if (typeof body !== 'object' || body === null) fail('$', 'expected {"seed", "rules"}');
  const b = body as Record<string, unknown>;
  if (typeof b.seed !== 'string' && !(typeof b.seed === 'number' && Number.isSafeInteger(b.seed))) fail('$.seed', 'expected a string or integer');
  if (!Array.isArray(b.rules)) fail('$.rules', 'expected an array');
  const rules = (b.rules as unknown[]).map((r, i): FaultRule => {
    const at = `$.rules[${i}]`;
    if (typeof r !== 'object' || r === null) fail(at, 'expected an object');
    const x = r as Record<string, unknown>;
    const op = x.op ?? '*';
    if (!(FAULT_OPS as readonly unknown[]).includes(op)) fail(`${at}.op`, `expected one of ${FAULT_OPS.join(', ')}`);
    const rate = x.rate ?? 1;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) fail(`${at}.rate`, 'expected a number from 0 to 1');
    const ms = x.ms ?? 0;
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > 120_000) fail(`${at}.ms`, 'expected whole milliseconds, 0 to 120000');
    const base = { op: op as FaultOp, rate: rate as number };
    switch (x.kind) {
      case 'fail':
        if (!(FAILURE_CODES as readonly unknown[]).includes(x.code)) fail(`${at}.code`, `expected one of ${FAILURE_CODES.join(', ')}`);
        return { ...base, kind: 'fail', code: x.code as FailureCode };
      case 'timeout':
        if (typeof x.applied !== 'boolean') fail(`${at}.applied`, 'expected true or false');
        return { ...base, kind: 'timeout', applied: x.applied as boolean, ms: ms as number };
      case 'delay':
        return { ...base, kind: 'delay', ms: ms as number };
      default:
        return fail(`${at}.kind`, 'expected "fail", "timeout" or "delay"');
    }
  });
  return { seed: String(b.seed), rules };
}

/** The first matching fail/timeout rule wins; delays add up. */
export function decideFault(plan: FaultPlan, op: Exclude<FaultOp, '*'>, requestId: string, delivery: number): FaultDecision {
  const out: FaultDecision = { delayMs: 0 };
  plan.rules.forEach((rule, i) => {
    if (rule.op !== '*' && rule.op !== op) return;
    if (draw(plan.seed, i, requestId, delivery) >= rule.rate) return;
    if (rule.kind === 'delay') out.delayMs += rule.ms;
    else if (out.fail === undefined && out.timeout === undefined) {
      if (rule.kind === 'fail') out.fail = rule.code;
      else out.timeout = { applied: rule.applied, ms: rule.ms };
    }
  });
  return out;
}

/** Uniform in [0, 1). */
function draw(seed: string, rule: number, requestId: string, delivery: number): number {
  const h = createHash('sha256').update(`${seed}\u0000${rule}\u0000${requestId}\u0000${delivery}`).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}
