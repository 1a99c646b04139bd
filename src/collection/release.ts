// An operator lifts a borrower's hold (挂账) and outflow block by hand: the only way
// besides clearing the debt. It needs a name and a reason, clears the hold as
// `operator:<name>` with an audit_log row in the same transaction, then makes the
// platform match (syncBlocks unfreezes). What is still owed stays owed: the next
// post-settlement batch collects it and may hold again.
import { releaseOpenHold } from '../../db/audit.repository.ts';
import type { Db } from '../../db/connection.ts';
import type { PaymentChannel } from '../channel/types.ts';
import type { Clock } from '../dates.ts';
import { LendpayError } from '../errors.ts';
import { syncBlocks } from './service.ts';

const OPERATOR = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface ReleaseInput {
  customerId: string;
  by: string;
  reason: string;
}

export interface Released {
  customerId: string;
  holdId: number;
  amountFen: number;
  auditId: number;
  unblocked: boolean;
}

export async function releaseHold(deps: { db: Db; channel: PaymentChannel; clock: Clock }, input: ReleaseInput): Promise<Released> {
  if (!OPERATOR.test(input.by)) throw new LendpayError('INVALID_INPUT', '--by: expected the operator\'s name: 1-64 letters, digits, ".", "_", "@" or "-"');
  const reason = input.reason.trim();
  if (reason.length < 3 || reason.length > 1000 || reason.includes('\u0000')) throw new LendpayError('INVALID_INPUT', '--reason: expected why, 3-1000 characters');
  const res = await releaseOpenHold(deps.db, input.customerId, input.by, reason, deps.clock.now());
  if (res.kind === 'no-customer') throw new LendpayError('NOT_FOUND', `no customer ${input.customerId}`);
  if (res.kind === 'no-hold') throw new LendpayError('CONFLICT', `customer ${input.customerId} has no open hold: nothing to release`);
  const blocks = await syncBlocks(deps, [input.customerId]);
  return { customerId: input.customerId, holdId: res.holdId, amountFen: res.amountFen, auditId: res.auditId, unblocked: blocks.unblocked > 0 };
}
