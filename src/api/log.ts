// Structured JSON logs (pino). Nothing personal or secret is logged: request logs carry
// method, URL and status only (no headers, no bodies), and these paths are redacted in
// case an object carrying them is ever logged.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT = [
  'req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'apiToken', '*.token', '*.apiToken',
  'name', '*.name', 'cardNumber', '*.cardNumber', 'body', '*.body',
];

export function makeLogger(level: string, destination?: DestinationStream): Logger {
  const opts = { level, base: { service: 'lendpay', pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}
