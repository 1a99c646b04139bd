// A server that cannot listen says which address and which setting changes it.
import { LendpayError } from '../errors.ts';

export function listenError(e: unknown, host: string, port: number, setting: string): unknown {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') return new LendpayError('INVALID_CONFIG', `port ${port} on ${host} is already in use (another lendpay worker or server?): choose another with ${setting} (0 takes any free port)`, { cause: e });
  if (code === 'EACCES') return new LendpayError('INVALID_CONFIG', `port ${port} on ${host} needs privileges this process does not have: choose a port above 1023 with ${setting}`, { cause: e });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new LendpayError('INVALID_CONFIG', `${host} is not an address of this machine: choose another host (LENDPAY_API_HOST or --host)`, { cause: e });
  return e;
}
