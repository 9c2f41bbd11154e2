// The API's shapes the console reads (docs/openapi.yaml, components/schemas). Documents the console
// only shows or edits as JSON (rules, tiers, engagement, coupon templates) stay loosely typed.
import type {
  ItemKind,
  Money,
  ExplanationLine,
  PeriodLimit,
} from '@/shared/types';
// Every shared API type, so that the app's modules import them from here.
export type * from '@/shared/types';


export type OperatorRole = 'operator' | 'admin' | 'analyst';
export type KeyRole = 'merchant' | OperatorRole;

export interface OperatorSession {
  operator: { id: number; name: string; role: OperatorRole };
  csrf_token: string;
  expires_at: string;
}

export interface OverviewDay {
  date: string;
  issued: number;
  redeemed: number;
  expired: number;
  outstanding: number;
  new_members: number;
  checkins: number;
  redemptions: number;
}

export interface OverviewReport {
  from: string;
  until: string;
  currency: string;
  days: OverviewDay[];
  totals: {
    issued: number;
    redeemed: number;
    expired: number;
    new_members: number;
    checkins: number;
    redemptions: number;
    outstanding: number;
    members: number;
    liability: Money;
    redemption_rate_bp: number;
  };
  top_items: { item_id: string; name: string; orders: number; units: number; points: number }[];
}

export interface Lot {
  id: number;
  points: number;
  remaining: number;
  state: string;
  source: string;
  order_id: string | null;
  earned_at: string;
  matures_at: string | null;
  expires_at: string | null;
}

export interface ItemDocument {
  id: string;
  version?: number;
  name: string;
  description?: string;
  kind: ItemKind;
  category?: string;
  brand?: string;
  tags?: string[];
  images?: string[];
  points_price: number;
  cash_price?: Money;
  stock?: number;
  limits?: { per_order?: number; per_member?: PeriodLimit; global?: PeriodLimit };
  window?: { from?: string; until?: string };
  eligible_tiers?: string[];
  tier_discount?: boolean;
  coupon_template?: string;
  tier?: string;
  active?: boolean;
}

export interface Item extends ItemDocument {
  version: number;
  taken: number;
  stock_left: number | null;
}

export interface DocumentVersion<D> {
  version: number;
  retired: boolean;
  created_at: string;
  created_by: string;
  document: D;
}

export interface DryRunResult {
  dry_run: true;
  member_id: number;
  type: string;
  points: number;
  explanation?: ExplanationLine[];
  skipped: ExplanationLine[];
  refusal?: { type: string; detail: string };
}

// A rule or campaign document as JSON (docs/earning.md); the console edits the common fields.
export type JsonObject = { [key: string]: unknown };

export interface Rule extends JsonObject {
  id: string;
  version: number;
  name: string;
  event_type: string;
  enabled: boolean;
}

export interface Campaign extends JsonObject {
  id: string;
  version: number;
  name: string;
  from: string;
  until: string;
  budget: number;
  exclusive: boolean;
  enabled: boolean;
  rules: JsonObject[];
}

export interface BackTestTotals {
  points: number;
  by_rule: Record<string, number>;
  by_tier: Record<string, number>;
  by_day: Record<string, number>;
}

export interface SimulationReport {
  from: string;
  until: string;
  events: number;
  members: number;
  simulated: BackTestTotals;
  actual: BackTestTotals;
  difference: number;
  refused: Record<string, number>;
  events_without_record: number;
  duration_ms: number;
}

export interface CouponTemplate extends JsonObject {
  id: string;
  version: number;
  name: string;
}

export interface Coupon extends JsonObject {
  code: string;
}

export interface ApiKey {
  id: number;
  name: string;
  role: KeyRole;
  key_prefix: string;
  created_at: string;
  revoked_at: string | null;
  key?: string;
}

export interface Operator {
  id: number;
  name: string;
  role: OperatorRole;
  disabled: boolean;
  created_at: string;
  totp_secret?: string;
  totp_uri?: string;
}
