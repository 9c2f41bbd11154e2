// The API's schemas both front ends read (docs/openapi.yaml's components), written once.
// Money is in minor units, points are integers, times are RFC 3339 strings.

export type ItemKind = 'physical' | 'coupon' | 'service' | 'tier_upgrade';

export type OrderState =
  | 'awaiting_payment'
  | 'reserved'
  | 'confirmed'
  | 'fulfilled'
  | 'shipped'
  | 'delivered'
  | 'cancelled'
  | 'failed';

export interface Money {
  amount: number;
  currency: string;
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

export interface ExpiringPoints {
  points: number;
  expires_at: string;
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
  expiring: ExpiringPoints[];
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
  measure: {
    kind: 'points_earned' | 'money_spent';
    value: number;
    currency?: string;
    from_month: string;
    to_month: string;
  };
  next_tier: (TierInfo & { remaining: number }) | null;
  history: { at: string; from: string; to: string; reason: string; transaction_id: number }[];
}

export interface ExplanationLine {
  rule: string;
  campaign?: string;
  // In a transaction's lines: the display names the program has for them today.
  name?: string;
  campaign_name?: string;
  kind: string;
  points: number;
  detail: string;
}

export interface Transaction {
  id: number;
  kind: string;
  points: number;
  at: string;
  reference: string;
  explanation: string;
  actor: string;
  // An earn's rules that paid (absent for other kinds and for earns without a record).
  lines?: ExplanationLine[];
}

export interface PeriodLimit {
  units: number;
  period: 'day' | 'week' | 'month' | 'lifetime';
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postal_code: string;
  country: string;
  phone?: string;
}

export interface Order {
  id: string;
  member_id: number;
  item: { id: string; name: string; kind: ItemKind };
  quantity: number;
  unit_points: number;
  points: number;
  cash: Money | null;
  state: OrderState;
  shipping_address: ShippingAddress | null;
  carrier: string | null;
  tracking_number: string | null;
  coupon_codes: string[];
  tier: string | null;
  created_at: string;
  hold_expires_at: string | null;
  history: { state: OrderState; at: string; actor: string; note: string | null }[];
}
