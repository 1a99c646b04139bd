// Structured JSON logs (pino). Nothing personal or secret is logged: request logs carry
// method, URL and status only (no headers, no bodies), and these paths are redacted in
// case an object carrying them is ever logged.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT = [
  'req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'apiToken', '*.token', '*.apiToken',
  'name', '*.name', 'cardNumber', '*.cardNumber', 'body', '*.body',
  // personal and ID data by the names they travel under (pino's wildcards reach one level)
  'card_number', '*.card_number', 'idNumber', '*.idNumber', 'id_number', '*.id_number', 'idCard', '*.idCard',
  'realName', '*.realName', 'real_name', '*.real_name', 'phone', '*.phone', 'mobile', '*.mobile',
];

export function makeLogger(level: string, destination?: DestinationStream): Logger {
  const opts = { level, base: { service: 'lendpay', pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}
