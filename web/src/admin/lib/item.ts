// The catalog form and the item document it makes (docs/mall.md, items). Optional parts left
// empty are left out of the document, so the server's defaults apply.
import type { Item, ItemDocument, ItemKind, PeriodLimit } from '../api/types';

export interface ItemForm {
  id: string;
  version: number;
  name: string;
  kind: ItemKind;
  category: string;
  brand: string;
  tags: string; // comma separated
  images: string; // one a line
  pointsPrice: number;
  cashAmount: number | null; // minor units
  cashCurrency: string;
  stock: number | null;
  perOrder: number | null;
  perMember: number | null;
  perMemberPeriod: PeriodLimit['period'];
  global: number | null;
  globalPeriod: PeriodLimit['period'];
  from: string; // RFC 3339 or ''
  until: string;
  eligibleTiers: string[];
  tierDiscount: boolean;
  couponTemplate: string;
  tier: string;
  active: boolean;
}

export function emptyItemForm(currency = 'GBP'): ItemForm {
  return {
    id: '',
    version: 0,
    name: '',
    kind: 'physical',
    category: '',
    brand: '',
    tags: '',
    images: '',
    pointsPrice: 100,
    cashAmount: null,
    cashCurrency: currency,
    stock: null,
    perOrder: null,
    perMember: null,
    perMemberPeriod: 'month',
    global: null,
    globalPeriod: 'day',
    from: '',
    until: '',
    eligibleTiers: [],
    tierDiscount: true,
    couponTemplate: '',
    tier: '',
    active: true,
  };
}

export function itemToForm(item: Item): ItemForm {
  return {
    ...emptyItemForm(item.cash_price?.currency),
    id: item.id,
    version: item.version,
    name: item.name,
    kind: item.kind,
    category: item.category ?? '',
    brand: item.brand ?? '',
    tags: (item.tags ?? []).join(', '),
    images: (item.images ?? []).join('\n'),
    pointsPrice: item.points_price,
    cashAmount: item.cash_price?.amount ?? null,
    stock: item.stock ?? null,
    perOrder: item.limits?.per_order ?? null,
    perMember: item.limits?.per_member?.units ?? null,
    perMemberPeriod: item.limits?.per_member?.period ?? 'month',
    global: item.limits?.global?.units ?? null,
    globalPeriod: item.limits?.global?.period ?? 'day',
    from: item.window?.from ?? '',
    until: item.window?.until ?? '',
    eligibleTiers: item.eligible_tiers ?? [],
    tierDiscount: item.tier_discount ?? true,
    couponTemplate: item.coupon_template ?? '',
    tier: item.tier ?? '',
    active: item.active ?? true,
  };
}

const list = (text: string, separator: RegExp) =>
  text
    .split(separator)
    .map((part) => part.trim())
    .filter(Boolean);

export function buildItemDocument(form: ItemForm): ItemDocument {
  const doc: ItemDocument = {
    id: form.id.trim(),
    version: form.version,
    name: form.name.trim(),
    kind: form.kind,
    category: form.category.trim(),
    brand: form.brand.trim(),
    tags: list(form.tags, /,/),
    images: list(form.images, /\n/),
    points_price: form.pointsPrice,
    eligible_tiers: form.eligibleTiers,
    tier_discount: form.tierDiscount,
    active: form.active,
  };
  if (form.cashAmount) doc.cash_price = { amount: form.cashAmount, currency: form.cashCurrency };
  if (form.stock !== null && form.stock !== undefined) doc.stock = form.stock;
  const limits: NonNullable<ItemDocument['limits']> = {};
  if (form.perOrder) limits.per_order = form.perOrder;
  if (form.perMember) limits.per_member = { units: form.perMember, period: form.perMemberPeriod };
  if (form.global) limits.global = { units: form.global, period: form.globalPeriod };
  if (Object.keys(limits).length) doc.limits = limits;
  const window: NonNullable<ItemDocument['window']> = {};
  if (form.from) window.from = form.from;
  if (form.until) window.until = form.until;
  if (Object.keys(window).length) doc.window = window;
  if (form.kind === 'coupon') doc.coupon_template = form.couponTemplate;
  if (form.kind === 'tier_upgrade') doc.tier = form.tier;
  return doc;
}
