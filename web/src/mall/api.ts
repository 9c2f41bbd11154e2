// The member's side of the API (/v1/me and the member sign-in), typed after docs/openapi.yaml.
// Every call goes through the shared ApiClient with the member's bearer token; a 401 anywhere
// calls `onUnauthenticated` (the session store sends the member to /login).
import { ApiClient, type Credentials, type Page } from '@/shared/api';
import type {
  ItemKind,
  Money,
  Member,
  Balance,
  MemberTier,
  ExplanationLine,
  Transaction,
  PeriodLimit,
  ShippingAddress,
  Order,
} from '@/shared/types';
// Every shared API type, so that the app's modules import them from here.
export type * from '@/shared/types';


export const ITEM_KINDS: ItemKind[] = ['physical', 'coupon', 'service', 'tier_upgrade'];

export interface MemberSession {
  token: string;
  member_id: number;
  expires_at: string;
}

export interface CheckinStatus {
  enabled: boolean;
  today: string;
  time_zone: string;
  checked_in_today: boolean;
  streak: number;
  last_checkin: string | null;
  points_per_checkin: number;
  streak_rewards: { day: number; points: number }[];
  cycle_days: number;
}

export interface CheckinResult {
  transaction_id: number;
  points: number;
  status: 'available' | 'pending' | 'recorded';
  explanation: ExplanationLine[];
  balance: { available: number; pending: number; debt: number };
  streak: number;
}

export interface Referral {
  member_id: number;
  code: string;
  enabled: boolean;
  referrer_points: number;
  friend_points: number;
  min_purchase?: Money;
  max_rewards_per_month: number;
  can_earn_rewards: boolean;
}

export interface MyTask {
  task: string;
  type: 'task' | 'survey';
  rule: string;
  name: string;
  points: number;
  times_per_member: number | null;
  completed: number;
}

export interface MemberItem {
  id: string;
  name: string;
  description: string;
  kind: ItemKind;
  category: string;
  brand: string;
  tags: string[];
  images: string[];
  points_price: number;
  cash_price?: Money;
  stock?: number;
  limits?: { per_order?: number; per_member?: PeriodLimit; global?: PeriodLimit };
  window?: { from?: string; until?: string };
  eligible_tiers: string[];
  tier_discount: boolean;
  coupon_template?: string;
  tier?: string;
  active: boolean;
  unit_points: number;
  affordable: boolean;
  stock_left: number | null;
  on_sale: boolean;
  needs_shipping: boolean;
}

export type CouponBenefit =
  | { kind: 'fixed_amount'; amount: Money }
  | { kind: 'percent'; percent: number; max_off?: Money }
  | { kind: 'free_shipping' }
  | { kind: 'free_item'; sku: string };

export interface Coupon {
  code: string;
  template_id: string;
  name: string | null;
  benefit: CouponBenefit | null;
  member_id: number | null;
  state: 'available' | 'issued' | 'redeemed';
  usable: boolean;
  source: 'redemption' | 'operator' | 'pool';
  issued_at: string;
  valid_from: string;
  valid_until: string | null;
  order_id: string | null;
  redeemed_at: string | null;
  discount: Money | null;
}

// The orders the API lists the catalog in (`sort`); `popular` is the most redeemed first.
export const ITEM_SORTS = ['popular', 'points', '-points', 'name'] as const;
export type ItemSort = (typeof ITEM_SORTS)[number];

export interface ItemQuery {
  category?: string;
  q?: string;
  kind?: ItemKind;
  affordable?: boolean;
  sort?: ItemSort;
  cursor?: string;
  limit?: number;
}

export interface RedemptionRequest {
  item_id: string;
  quantity: number;
  shipping_address?: ShippingAddress;
}

export const PAGE_SIZE = 20;

export class MallApi {
  readonly client: ApiClient;
  constructor(credentials: Credentials) {
    this.client = new ApiClient(credentials);
  }

  login(login: string, password: string): Promise<MemberSession> {
    return this.client.post('/v1/auth/member/login', { login, password });
  }
  logout(): Promise<void> {
    return this.client.post('/v1/auth/member/logout');
  }
  me(): Promise<Member> {
    return this.client.get('/v1/me');
  }
  balance(): Promise<Balance> {
    return this.client.get('/v1/me/balance');
  }
  // `null` when the program has no tiers (the API answers 404).
  async tier(): Promise<MemberTier | null> {
    try {
      return await this.client.get<MemberTier>('/v1/me/tier');
    } catch (error) {
      if ((error as { status?: number }).status === 404) return null;
      throw error;
    }
  }
  checkins(): Promise<CheckinStatus> {
    return this.client.get('/v1/me/checkins');
  }
  checkIn(idempotencyKey: string): Promise<CheckinResult> {
    return this.client.post('/v1/me/checkins', {}, idempotencyKey);
  }
  referral(): Promise<Referral> {
    return this.client.get('/v1/me/referral');
  }
  tasks(): Promise<{ data: MyTask[] }> {
    return this.client.get('/v1/me/tasks');
  }
  transactions(cursor?: string | null): Promise<Page<Transaction>> {
    return this.client.get('/v1/me/transactions', { cursor, limit: PAGE_SIZE });
  }
  // The API answers the whole catalog in one page today (`next_cursor` absent); a later
  // version may page it, so the cursor is passed through when there is one.
  items(query: ItemQuery = {}): Promise<{ data: MemberItem[]; next_cursor?: string | null }> {
    return this.client.get('/v1/me/items', {
      category: query.category,
      q: query.q,
      kind: query.kind,
      affordable: query.affordable ? true : undefined,
      sort: query.sort,
      cursor: query.cursor,
      limit: query.cursor ? query.limit : undefined,
    });
  }
  item(id: string): Promise<MemberItem> {
    return this.client.get(`/v1/me/items/${encodeURIComponent(id)}`);
  }
  redeem(request: RedemptionRequest, idempotencyKey: string): Promise<Order> {
    return this.client.post('/v1/me/redemptions', request, idempotencyKey);
  }
  orders(cursor?: string | null, limit = PAGE_SIZE): Promise<Page<Order>> {
    return this.client.get('/v1/me/redemptions', { cursor, limit });
  }
  order(id: string): Promise<Order> {
    return this.client.get(`/v1/me/redemptions/${encodeURIComponent(id)}`);
  }
  cancelOrder(id: string, idempotencyKey: string): Promise<Order> {
    return this.client.post(
      `/v1/me/redemptions/${encodeURIComponent(id)}/cancel`,
      {},
      idempotencyKey,
    );
  }
  coupons(state: 'issued' | 'redeemed' | undefined, cursor?: string | null): Promise<Page<Coupon>> {
    return this.client.get('/v1/me/coupons', { state, cursor, limit: PAGE_SIZE });
  }
}
