// rules/accounts.json: finance's subject (科目) for each of lendpay's ledger accounts,
// so that vouchers carry the codes the finance package books on. Validated like
// every rule file (`file: $.json.path: reason`); an account of the chart with no
// subject is a warning here and a refusal when vouchers are exported.
import type { ParseResult } from '../eligibility/rules.ts';
import { Problems } from '../rules/problems.ts';
import { LendpayError } from '../errors.ts';
import { ACCOUNTS } from './postings.ts';

export interface Subject {
  /** e.g. "1301" or "601101" */
  readonly code: string;
  /** e.g. "贷款" */
  readonly name: string;
}

export interface AccountMap {
  readonly file: string;
  /** 凭证字, "记" unless the file says otherwise */
  readonly voucherWord: string;
  /** ledger account → subject */
  readonly subjects: ReadonlyMap<string, Subject>;
}

/** Every ledger account lendpay posts to. */
export const CHART: readonly string[] = Object.values(ACCOUNTS);

const CODE = /^[0-9]{4}(\.?[0-9]{1,4}){0,6}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

export function parseAccountMap(json: unknown, file: string): ParseResult<AccountMap> {
  const p = new Problems(file);
  if (!isObject(json)) {
    p.error('$', `expected an object with "accounts", got ${show(json)}`);
    return { errors: p.errors, warnings: p.warnings };
  }
  p.keys(json, '$', ['$schema', 'description', 'voucherWord', 'accounts']);
  if (json['description'] !== undefined && typeof json['description'] !== 'string') p.error('$.description', `expected text, got ${show(json['description'])}`);
  const word = json['voucherWord'] ?? '记';
  if (typeof word !== 'string' || word.length < 1 || word.length > 4) p.error('$.voucherWord', `expected the voucher word (凭证字) as 1–4 characters, e.g. "记", got ${show(word)}`);
  const accounts = json['accounts'];
  const subjects = new Map<string, Subject>();
  if (!isObject(accounts)) p.error('$.accounts', `expected {"<ledger account>": {"code", "name"}, ...}, got ${show(accounts)}`);
  else {
    const byCode = new Map<string, string>();
    for (const [account, raw] of Object.entries(accounts)) {
      const at = `$.accounts[${JSON.stringify(account)}]`;
      if (!CHART.includes(account)) {
        p.error(at, `unknown ledger account "${account}" (lendpay's accounts: ${CHART.join(', ')})`);
        continue;
      }
      if (!isObject(raw)) {
        p.error(at, `expected {"code": "1301", "name": "贷款"}, got ${show(raw)}`);
        continue;
      }
      if (!p.keys(raw, at, ['code', 'name'])) continue;
      const code = raw['code'];
      const name = raw['name'];
      if (typeof code !== 'string' || !CODE.test(code)) p.error(`${at}.code`, `expected a subject code of digits, at least four (e.g. "1301", "601101", "1012.01"), got ${show(code)}`);
      if (typeof name !== 'string' || name.trim() === '' || name.length > 64) p.error(`${at}.name`, `expected the subject's name (1–64 characters), got ${show(name)}`);
      if (typeof code !== 'string' || typeof name !== 'string') continue;
      const other = byCode.get(code);
      if (other !== undefined) p.warn(`${at}.code`, `subject ${code} is also ${other}'s: vouchers show the two accounts as separate lines of one subject`);
      byCode.set(code, account);
      subjects.set(account, { code, name });
    }
    for (const account of CHART) {
      if (!subjects.has(account)) p.warn('$.accounts', `ledger account "${account}" has no subject: vouchers are not exported until it has one`);
    }
  }
  if (p.errors.length > 0) return { errors: p.errors, warnings: p.warnings };
  return { value: { file, voucherWord: word as string, subjects }, errors: p.errors, warnings: p.warnings };
}

/** The subject of each account, or LendpayError naming every account that has none. */
export function subjectsFor(map: AccountMap, accounts: Iterable<string>): Map<string, Subject> {
  const out = new Map<string, Subject>();
  const missing: string[] = [];
  for (const a of new Set(accounts)) {
    const s = map.subjects.get(a);
    if (s) out.set(a, s);
    else missing.push(a);
  }
  if (missing.length > 0) {
    throw new LendpayError('RULES_INVALID', `no voucher is exported while a ledger account has no subject: add ${missing.map((a) => `"${a}"`).join(', ')} to ${map.file}`, {
      details: missing.map((a) => `${map.file}: $.accounts: "${a}" has no subject code and name`),
    });
  }
  return out;
}
