// Every route module of the HTTP server. A module is `(app, deps) => void`: it adds
// its routes with their JSON schemas (which validate requests and make /openapi.json)
// and marks writes with `config: { auth: true, idempotent: true }`. Collection and
// escalation endpoints are added here as modules of their own.
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../server.ts';
import { eligibilityRoutes } from './eligibility.ts';
import { customerRoutes } from './customers.ts';
import { loanRoutes } from './loans.ts';
import { orderRoutes } from './orders.ts';
import { dashboardRoutes } from './dashboard.ts';
import { metricsRoutes } from './metrics.ts';
import { opsRoutes } from './ops.ts';
import { repaymentRoutes } from './repayments.ts';
import { voucherRoutes } from './vouchers.ts';
import { prepaymentRoutes } from './prepayments.ts';

export type RouteModule = (app: FastifyInstance, deps: ApiDeps) => void | Promise<void>;

export const ROUTES: RouteModule[] = [
  eligibilityRoutes,
  customerRoutes,
  loanRoutes,
  orderRoutes,
  dashboardRoutes,
  metricsRoutes,
  opsRoutes,
  repaymentRoutes,
  voucherRoutes,
  prepaymentRoutes,
];
