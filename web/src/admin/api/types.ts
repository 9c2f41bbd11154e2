// The API's shapes the console reads (docs/openapi.yaml, components/schemas). Documents the console
// only shows or edits as JSON (rules, tiers, engagement, coupon templates) stay loosely typed.

export type OperatorRole = 'operator' | 'admin' | 'analyst';
export type KeyRole = 'merchant' | OperatorRole;

export interface OperatorSession {
  operator: { id: number; name: string; role: OperatorRole };
  csrf_token: string;
  expires_at: string;
}

export interface MoneyAmount {
  amount: number;
  currency: string;
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
    liability: MoneyAmount;
    redemption_rate_bp: number;
  };
  top_items: { item_id: string; name: string; orders: number; units: number; points: number }[];
}

export interface Member {
  id: number;
  external_id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  birthday: string | null;
  gender: string | null;
  region: string | null;
  referrer: string | null;
  tags: string[];
  status: 'active' | 'frozen';
  joined_at: string;
  updated_at: string;
}

export interface Balance {
  member_id: number;
  available: number;
  pending: number;
  frozen: number;
  held: number;
  debt: number;
  lifetime_earned: number;
  account_frozen: boolean;
  expiring: { points: number; expires_at: string }[];
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

export interface Transaction {
  id: number;
  kind: string;
  points: number;
  at: string;
  reference: string;
  explanation: string;
  actor: string;
}

export interface TierInfo {
  level: number;
  id: string;
  name: string;
  threshold: number;
  earn_percent: number;
  validity_days: number;
  redemption_discount_percent: number;
  exclusive_item_tags: string[];
}

export interface MemberTier {
  member_id: number;
  tier: TierInfo | null;
  measure: { kind: string; value: number; currency?: string; from_month: string; to_month: string };
  next_tier: (TierInfo & { remaining: number }) | null;
  history: { at: string; from: string; to: string; reason: string; transaction_id: number }[];
}

export type ItemKind = 'physical' | 'coupon' | 'service' | 'tier_upgrade';

export interface PeriodLimit {
  units: number;
  period: 'day' | 'week' | 'month' | 'lifetime';
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
  cash_price?: MoneyAmount;
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

export type OrderState =
  | 'awaiting_payment'
  | 'reserved'
  | 'confirmed'
  | 'fulfilled'
  | 'shipped'
  | 'delivered'
  | 'cancelled'
  | 'failed';

export interface Order {
  id: string;
  member_id: number;
  item: { id: string; name: string; kind: ItemKind };
  quantity: number;
  unit_points: number;
  points: number;
  cash: MoneyAmount | null;
  state: OrderState;
  shipping_address: Record<string, string> | null;
  carrier: string | null;
  tracking_number: string | null;
  coupon_codes: string[];
  tier: string | null;
  created_at: string;
  hold_expires_at: string | null;
  history: { state: OrderState; at: string; actor: string; note: string | null }[];
}

export interface ExplanationLine {
  rule: string;
  campaign?: string;
  kind: string;
  points: number;
  detail: string;
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
