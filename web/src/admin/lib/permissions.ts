// What each operator role may do in the console, as the server's role table says
// (`pointsmall routes`): analysts read and run back-tests; operators change members, the catalog,
// orders, the program and coupons; only admins manage access, send (dry-run) events and validate
// coupon codes.
import type { OperatorRole } from '../api/types';

export type Permission =
  | 'members.write'
  | 'catalog.write'
  | 'orders.write'
  | 'program.write'
  | 'program.simulate'
  | 'events.dry_run'
  | 'coupons.write'
  | 'coupons.validate'
  | 'access.manage';

const TABLE: Record<OperatorRole, Permission[]> = {
  analyst: ['program.simulate'],
  operator: [
    'members.write',
    'catalog.write',
    'orders.write',
    'program.write',
    'program.simulate',
    'coupons.write',
  ],
  admin: [
    'members.write',
    'catalog.write',
    'orders.write',
    'program.write',
    'program.simulate',
    'events.dry_run',
    'coupons.write',
    'coupons.validate',
    'access.manage',
  ],
};

export function allows(role: OperatorRole, permission: Permission): boolean {
  return TABLE[role].includes(permission);
}
