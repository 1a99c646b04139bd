// Holds (挂账) follow from what is unpaid: for each borrower, what fell due on or
// before the hold's date (the batch's date for a new hold) and is still unpaid. More
// than zero: the hold is open with that amount; zero: it is cleared. Pure: the
// repository reads the states and writes what this decides.
import type { Fen } from '../money.ts';

export interface HoldChange {
  customerId: string;
  holdId: number;
  event: 'opened' | 'cleared' | 'changed' | 'unchanged';
  amount: Fen;
}

export interface HoldState {
  customerId: string;
  hold: { id: number; amount: Fen; asOf: string } | null;
  unpaid: Fen;
}

export interface HoldWrites {
  open: { customerId: string; amount: number }[];
  clear: number[];
  change: { holdId: number; amount: number; asOf: string }[];
  /** the events of holds that exist already (opened ones are known once written) */
  events: HoldChange[];
}

/** `asOf`: the date a new hold covers (the post-settlement batch's); null: existing holds are only updated. */
export function decideHolds(states: readonly HoldState[], asOf: string | null): HoldWrites {
  const w: HoldWrites = { open: [], clear: [], change: [], events: [] };
  for (const x of states) {
    if (x.hold === null) {
      if (x.unpaid > 0 && asOf !== null) w.open.push({ customerId: x.customerId, amount: x.unpaid });
      continue;
    }
    if (x.unpaid === 0) {
      w.clear.push(x.hold.id);
      w.events.push({ customerId: x.customerId, holdId: x.hold.id, event: 'cleared', amount: 0 as Fen });
      continue;
    }
    // a later batch moves the hold's date forward: it then covers what fell due since
    const asOfNow = asOf !== null && asOf > x.hold.asOf ? asOf : x.hold.asOf;
    if (x.unpaid !== x.hold.amount || asOfNow !== x.hold.asOf) w.change.push({ holdId: x.hold.id, amount: x.unpaid, asOf: asOfNow });
    w.events.push({ customerId: x.customerId, holdId: x.hold.id, event: x.unpaid !== x.hold.amount ? 'changed' : 'unchanged', amount: x.unpaid });
  }
  return w;
}
