import { describe, expect, it } from 'vitest';
import { buildCampaignDocument, campaignToForm, emptyCampaignForm, slugify, toDocumentTime } from './campaign';

describe('campaign form', () => {
  const now = new Date('2026-11-23T12:00:00.123Z');

  it('builds a double-points purchase campaign document', () => {
    const form = { ...emptyCampaignForm(now), name: 'Double Points Weekend' };
    expect(buildCampaignDocument(form)).toEqual({
      id: 'double-points-weekend',
      name: 'Double Points Weekend',
      from: '2026-11-23T12:00:00Z',
      until: '2026-11-30T12:00:00Z',
      budget: 0,
      exclusive: false,
      enabled: true,
      rules: [
        {
          id: 'double-points-weekend',
          name: 'Double Points Weekend',
          event_type: 'purchase',
          effect: { kind: 'multiplier', percent: 200 },
        },
      ],
    });
  });

  it('builds fixed points for another event with a budget and an explicit id', () => {
    const doc = buildCampaignDocument({
      ...emptyCampaignForm(now),
      id: 'review-bonus',
      name: 'Review bonus',
      eventType: 'review',
      effect: 'fixed',
      points: 30,
      budget: 5000,
      exclusive: true,
    });
    expect(doc.budget).toBe(5000);
    expect(doc.exclusive).toBe(true);
    expect(doc.rules).toEqual([
      { id: 'review-bonus', name: 'Review bonus', event_type: 'review', effect: { kind: 'fixed', points: 30 } },
    ]);
  });

  it('merges extra JSON over the form', () => {
    const doc = buildCampaignDocument({ ...emptyCampaignForm(now), name: 'X' }, { enabled: false });
    expect(doc.enabled).toBe(false);
  });

  it('reads a simple campaign back into the form, and refuses what it cannot show', () => {
    const doc = buildCampaignDocument({ ...emptyCampaignForm(now), name: 'Triple', percent: 300 });
    const form = campaignToForm({ ...doc, version: 2 });
    expect(form?.percent).toBe(300);
    expect(form?.name).toBe('Triple');
    expect(campaignToForm({ ...doc, rules: [...(doc.rules as object[]), ...(doc.rules as object[])] })).toBeNull();
  });

  it('makes ids the API accepts', () => {
    expect(slugify('  Boxing Day 2026!! ')).toBe('boxing-day-2026');
    expect(slugify('双倍积分')).toBe('campaign');
    expect(toDocumentTime(now)).toBe('2026-11-23T12:00:00Z');
  });
});
