// The worker's log: JSON lines (pino) for machines, which is what it writes to a
// pipe, a file or a log collector; on a terminal, pino-pretty's readable lines when
// that dev dependency is installed. LENDPAY_LOG_FORMAT=json|pretty overrides the guess.
import type { Logger } from 'pino';
import { makeLogger } from '../api/log.ts';

export async function cliLogger(level: string, format: 'auto' | 'json' | 'pretty'): Promise<Logger> {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (pretty) {
    try {
      const { default: prettyStream } = await import('pino-pretty');
      // sync: a line is on the terminal before the next statement, and none is lost at exit
      return makeLogger(level, prettyStream({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,service' }));
    } catch {
      // a production install (npm ci --omit=dev) has no pino-pretty: JSON lines it is
    }
  }
  return makeLogger(level);
}
