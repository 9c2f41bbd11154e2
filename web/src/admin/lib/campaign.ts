// The campaign form's common cases and the campaign document they make (docs/earning.md,
// campaigns): one rule for one event type that either multiplies the points of the rules it sees
// (percent, 200 = double) or adds fixed points; extra JSON fields merge over the document.
import type { JsonObject } from '../api/types';

export type CampaignEffect = 'multiplier' | 'fixed';

export interface CampaignForm {
  id: string;
  name: string;
  eventType: string;
  from: string; // DocumentTime: RFC 3339, or a local date/time of the program
  until: string;
  effect: CampaignEffect;
  percent: number; // multiplier, 101..1000
  points: number; // fixed, 1..1000000
  budget: number; // 0: no limit
  exclusive: boolean;
  enabled: boolean;
}

export function emptyCampaignForm(now: Date = new Date()): CampaignForm {
  const until = new Date(now.getTime() + 7 * 24 * 3600 * 1000);
  return {
    id: '',
    name: '',
    eventType: 'purchase',
    from: toDocumentTime(now),
    until: toDocumentTime(until),
    effect: 'multiplier',
    percent: 200,
    points: 10,
    budget: 0,
    exclusive: false,
    enabled: true,
  };
}

// An instant as the API's DocumentTime in UTC, to the second: 2026-11-23T12:00:00Z.
export function toDocumentTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

// A document id from a name: lower case, a-z 0-9 and dashes, at most 64 characters.
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || 'campaign';
}

export function buildCampaignDocument(form: CampaignForm, extra: JsonObject = {}): JsonObject {
  const id = form.id.trim() || slugify(form.name);
  const effect =
    form.effect === 'multiplier'
      ? { kind: 'multiplier', percent: Math.round(form.percent) }
      : { kind: 'fixed', points: Math.round(form.points) };
  // The rule carries the campaign's id and name: a member's points history names the rule's id.
  const ruleName = form.name.trim();
  const document: JsonObject = {
    id,
    name: form.name.trim(),
    from: form.from.trim(),
    until: form.until.trim(),
    budget: Math.max(0, Math.round(form.budget)),
    exclusive: form.exclusive,
    enabled: form.enabled,
    rules: [{ id, name: ruleName, event_type: form.eventType, effect }],
  };
  return { ...document, ...extra };
}

// The form's fields read back from a saved campaign whose first rule is a common case; `null`
// when the campaign is something the form cannot show (then only the JSON view edits it).
export function campaignToForm(campaign: JsonObject): CampaignForm | null {
  const rules = campaign.rules as JsonObject[] | undefined;
  if (!rules || rules.length !== 1) return null;
  const rule = rules[0]!;
  const effect = rule.effect as { kind?: string; percent?: number; points?: number } | undefined;
  if (!effect || (effect.kind !== 'multiplier' && effect.kind !== 'fixed')) return null;
  return {
    id: String(campaign.id ?? ''),
    name: String(campaign.name ?? ''),
    eventType: String(rule.event_type ?? 'purchase'),
    from: String(campaign.from ?? ''),
    until: String(campaign.until ?? ''),
    effect: effect.kind,
    percent: effect.percent ?? 200,
    points: effect.points ?? 10,
    budget: Number(campaign.budget ?? 0),
    exclusive: Boolean(campaign.exclusive),
    enabled: campaign.enabled !== false,
  };
}
