// GET /vouchers?date=D: the day's vouchers for the finance system, as
// `lendpay ledger vouchers` exports them (numbered on first export, the same numbers
// after). Read-only for the caller: what it stores is the numbering, which any
// export of the date would make the same way.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { exportVouchers } from '../../ledger/export.ts';
import { vouchersToCsv, vouchersToJson } from '../../ledger/vouchers.ts';
import { parseBusinessDate } from '../../dates.ts';
import { ApiProblem } from '../problem.ts';
import { LendpayError } from '../../errors.ts';
import { SECURED, SECURED_PROBLEMS, responses } from '../schemas.ts';
import { SCHEMA_PARTS } from '../views.ts';

const { obj, str, nstr, yuan, date } = SCHEMA_PARTS;
const LINE = { type: 'object', required: ['subjectCode', 'subjectName', 'account', 'debit', 'credit'], additionalProperties: false, properties: { subjectCode: str, subjectName: str, account: str, debit: yuan, credit: yuan, customerId: nstr, loanId: nstr } } as const;
const VOUCHERS = obj({
  date, grouping: { type: 'string', enum: ['type', 'entry'] },
  vouchers: {
    type: 'array',
    items: {
      type: 'object', required: ['number', 'word', 'no', 'date', 'eventType', 'summary', 'lines', 'debit', 'credit'], additionalProperties: false,
      properties: {
        number: { type: 'string', description: 'e.g. 记-0001' }, word: str, no: { type: 'integer' }, date, eventType: str, summary: { type: 'string', description: '摘要' },
        customerId: nstr, loanId: nstr, lines: { type: 'array', items: LINE }, debit: yuan, credit: yuan,
      },
    },
  },
  totals: obj({ bySubject: { type: 'array', items: obj({ subjectCode: str, subjectName: str, debit: yuan, credit: yuan }) }, debit: yuan, credit: yuan }),
  numberedNow: { type: 'integer', description: 'vouchers numbered by this export (the rest were numbered before)' },
});

export function voucherRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { date: string; group?: 'type' | 'entry'; format?: 'json' | 'csv' } }>('/vouchers', {
    config: { role: 'read' },
    schema: {
      operationId: 'exportVouchers',
      security: SECURED,
      summary: 'The vouchers (记账凭证) of a business date for the finance system: JSON, or CSV (UTF-8 with BOM) with format=csv',
      tags: ['ledger'],
      querystring: {
        type: 'object',
        required: ['date'],
        additionalProperties: false,
        properties: {
          date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'business date, Asia/Shanghai' },
          group: { type: 'string', enum: ['type', 'entry'], default: 'type' },
          format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
        },
      },
      response: responses({
        200: { description: 'the vouchers (format=csv: text/csv, UTF-8 with BOM, the columns 凭证日期 凭证字 凭证号 摘要 科目编码 科目名称 借方金额 贷方金额)', schema: VOUCHERS },
      }, [...SECURED_PROBLEMS, 400, 422, 503]),
    },
  }, async (req, reply) => {
    if (!deps.rules) throw new ApiProblem(503, 'VOUCHERS_UNAVAILABLE', 'this server has no rules loaded (rules/accounts.json maps accounts to subjects)');
    const date = parseBusinessDate(req.query.date, 'querystring.date');
    const grouping = req.query.group ?? 'type';
    const day = await exportVouchers(deps.db, (await deps.rules()).accounts, date, grouping).catch((err: unknown) => {
      if (!(err instanceof LendpayError)) throw err;
      // an account without a subject: finance must add it; nothing was numbered
      if (err.code === 'RULES_INVALID') throw new ApiProblem(422, 'ACCOUNT_WITHOUT_SUBJECT', err.message, err.details.map((d) => ({ path: 'rules/accounts.json', message: d })));
      // vouchers that do not add up to the journal: lendpay's fault, not the caller's
      if (err.code === 'INVALID_AMOUNT') {
        req.log.error({ err }, 'vouchers do not add up');
        throw new ApiProblem(500, 'VOUCHERS_INCONSISTENT', err.message);
      }
      throw err;
    });
    if (req.query.format === 'csv') {
      return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="vouchers-${date}-${grouping}.csv"`).send(vouchersToCsv(grouping, day.vouchers));
    }
    return vouchersToJson(day.date, day.grouping, day.vouchers, day.numberedNow);
  });
}
