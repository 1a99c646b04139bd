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
import { PROBLEM } from '../schemas.ts';

export function voucherRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { date: string; group?: 'type' | 'entry'; format?: 'json' | 'csv' } }>('/vouchers', {
    schema: {
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
      response: { 400: PROBLEM, 422: PROBLEM, 503: PROBLEM },
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
