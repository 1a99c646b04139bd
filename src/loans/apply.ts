// Applying for a loan of a product: the use case the CLI (`loan apply --product`) and
// the API (`POST /loans`) share. The product, its term or the request's own schedule
// are resolved first (pure, src/loans/products.ts); a refusal writes nothing. The
// schedule and the product's terms then go to applyForLoan, which checks the customer
// under its lock, records the loan and disburses it.
import { applyForLoan, type ApplyInput, type ApplyResult, type DisburseDeps } from '../disbursement/disburse.ts';
import { businessDateAt } from '../dates.ts';
import { resolveLoanRequest, type ProductProblem, type ProductRefusalCode, type ProductRules, type Rail } from './products.ts';

export interface ProductApplication {
  customerId: string;
  amount: ApplyInput['amount'];
  rail: Rail;
  requestId: string;
  destinationId?: string | null;
  mode?: 'compliant' | 'legacy';
  /** a product id; absent: the default product */
  product?: string | undefined;
  /** in the product's unit (days or months); absent: the product's default */
  term?: number | undefined;
  /** the loan business system's own schedule as it sent it; checked here */
  schedule?: unknown;
}

export type ProductRefusal = { ok: false; code: ProductRefusalCode; message: string; problems: ProductProblem[] };

export async function applyForProduct(deps: DisburseDeps, products: ProductRules | null, a: ProductApplication): Promise<ApplyResult | ProductRefusal> {
  const base = {
    customerId: a.customerId, amount: a.amount, rail: a.rail, requestId: a.requestId,
    ...(a.destinationId !== undefined ? { destinationId: a.destinationId } : {}), ...(a.mode ? { mode: a.mode } : {}),
  };
  if (!products) {
    // No products.json: today's loan (pricing.json), and nothing else can be asked for.
    const field = a.product !== undefined ? 'product' : a.term !== undefined ? 'term' : a.schedule !== undefined ? 'schedule' : null;
    if (field) return refusal([{ code: 'UNKNOWN_PRODUCT', field, at: '', message: 'no products are on sale here (the rules have no products.json)' }]);
    return applyForLoan(deps, base);
  }
  const disbursedOn = businessDateAt(deps.clock.now());
  const r = resolveLoanRequest(products, { amount: a.amount, rail: a.rail, product: a.product, term: a.term, schedule: a.schedule }, disbursedOn);
  if (!r.ok) return refusal(r.problems);
  return applyForLoan(deps, { ...base, schedule: r.schedule, product: r.choice, disbursedOn });
}

function refusal(problems: ProductProblem[]): ProductRefusal {
  return { ok: false, code: problems[0]!.code, message: problems.map((p) => `${p.field}${p.at.replace(/^\$/, '')}: ${p.message}`).join('; '), problems };
}
