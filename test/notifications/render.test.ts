import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseNotificationTemplates, type NotificationTemplates } from '../../src/notifications/templates.ts';
import { renderNotification } from '../../src/notifications/render.ts';
import { parseYuan } from '../../src/money.ts';

const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
const shippedJson = JSON.parse(readFileSync(path.join(RULES_DIR, 'notifications.json'), 'utf8')) as { templates: Record<string, { text: string }> };
const shipped = (): NotificationTemplates => {
  const res = parseNotificationTemplates(shippedJson, 'rules/notifications.json');
  assert.equal(res.errors, []);
  return res.value!;
};

test('the debit message of the issue, exactly: Asia/Shanghai time, grouped amount', () => {
  const text = renderNotification(shipped(), 'debit', {
    account: '6222020200009651',
    at: new Date('2026-11-24T02:32:41Z'), // 10:32 in Shanghai
    amount: parseYuan('2000.00'),
    loanId: 'L1001',
  });
  assert.is(text, '您尾号9651的余额账户于11月24日10:32在【lendpay小额贷款】发生代扣，人民币2,000.00，用于归还借款L1001。');
});

test('the card repayment reads as a bank\'s debit SMS: card last four, two-digit date, lender, yuan, the bank by name', () => {
  const text = renderNotification(shipped(), 'card_repayment', { account: '9651', bank: 'CMB', at: new Date('2026-02-09T06:32:00Z'), amount: parseYuan('2000.00'), loanId: 'L1001' });
  assert.is(text, '您账户9651于02月09日14:32在【lendpay小额贷款】发生快捷支付扣款，人民币2,000.00[招商银行]');
  const unknownBank = renderNotification(shipped(), 'card_repayment', { account: '0001', bank: 'XYZB', at: new Date('2026-02-09T06:32:00Z'), amount: parseYuan('1.00'), loanId: 'L1' });
  assert.match(unknownBank, /\[XYZB\]$/, 'a bank lendpay has no name for is shown by its code');
});

test('the day and hour are Shanghai\'s across midnight UTC; minutes padded; large amounts grouped', () => {
  const text = renderNotification(shipped(), 'debit', { account: '9651', at: new Date('2026-12-31T16:05:00Z'), amount: parseYuan('1234567.8'), loanId: 'L9' });
  assert.is(text, '您尾号9651的余额账户于01月01日00:05在【lendpay小额贷款】发生代扣，人民币1,234,567.80，用于归还借款L9。');
  const hold = renderNotification(shipped(), 'hold', { account: 'A1', at: new Date('2026-11-24T02:32:00Z'), amount: parseYuan('20.00'), loanId: 'L1001' });
  assert.match(hold, /借款L1001于11月24日10:32尚有人民币20\.00元未能扣款/);
});

test('unknown placeholders, kinds and unbalanced braces are refused at load with file and JSON path', () => {
  const bad = structuredClone(shippedJson) as any;
  bad.templates.debit.text = '您尾号{last4}的账户被扣款{amout}元{';
  bad.templates.sms = { text: 'x' };
  delete bad.templates.hold;
  const res = parseNotificationTemplates(bad, 'rules/notifications.json');
  assert.equal(res.errors, [
    'rules/notifications.json: $.templates.debit.text: unknown placeholder "{amout}" (known: {last4}, {year}, {month}, {day}, {MM}, {DD}, {hh}, {mm}, {amount}, {loanId}, {bank})',
    'rules/notifications.json: $.templates.debit.text: unbalanced "{" or "}" in "元{"',
    'rules/notifications.json: $.templates.sms: unknown notification kind "sms" (known: debit, hold, hold_cleared, card_repayment)',
    'rules/notifications.json: $.templates.hold: missing: lendpay sends this message',
  ]);
  assert.is(res.value, undefined);
  assert.match(parseNotificationTemplates({ templates: { debit: { text: '' }, hold: { text: 'x' } } }, 'n.json').errors[0]!, /n\.json: \$\.templates\.debit\.text: expected the message text/);
});

test('a kind the file does not have cannot be rendered', () => {
  const t = parseNotificationTemplates({ templates: { debit: { text: 'a' }, hold: { text: 'b' } } }, 'n.json').value!;
  assert.throws(() => renderNotification(t, 'hold_cleared', { account: '1', at: new Date(), amount: parseYuan('1.00'), loanId: 'L' }), /no "hold_cleared" template/);
  assert.throws(() => renderNotification(t, 'debit', { account: '1', at: new Date(), amount: -1 as never, loanId: 'L' }), /amount/);
});

test.run();
