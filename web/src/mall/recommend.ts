// "Recommended for you" without a recommender: there is no recommendation API yet, so this is a
// plain heuristic, not personalisation in any deeper sense. Items of the categories the member
// redeemed before (most recent orders first) come first; then the rest. Within each group, items
// they can afford now before the others, then in the order given: the caller lists the catalog
// most popular first (`sort=popular`), so what other members redeem most comes first.
// Only items on sale and in stock; the ones already ordered are skipped.
import type { MemberItem, Order } from './api';
import { canRedeem } from './itemStatus';

export function recommend(items: MemberItem[], orders: Order[], count = 8): MemberItem[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  const ordered = new Set(orders.map((order) => order.item.id));
  const categories: string[] = [];
  for (const order of orders) {
    const category = byId.get(order.item.id)?.category;
    if (category && !categories.includes(category)) categories.push(category);
  }
  const open = items.filter((item) => canRedeem(item) && !ordered.has(item.id));
  const category = (item: MemberItem) => {
    const index = categories.indexOf(item.category);
    return index >= 0 ? index : categories.length;
  };
  const unaffordable = (item: MemberItem) => (item.affordable ? 0 : 1);
  return open
    .map((item, index) => ({ item, index }))
    .sort(
      (a, b) =>
        category(a.item) - category(b.item) ||
        unaffordable(a.item) - unaffordable(b.item) ||
        a.index - b.index,
    )
    .slice(0, count)
    .map(({ item }) => item);
}
