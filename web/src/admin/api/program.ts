import { newIdempotencyKey } from '@/shared/api';
import { api, path } from './client';
import type {
  Campaign,
  DocumentVersion,
  DryRunResult,
  JsonObject,
  Rule,
  SimulationReport,
} from './types';

export const listRules = () => api.get<{ data: Rule[] }>('/v1/rules');
export const createRule = (rule: JsonObject) => api.post<Rule>('/v1/rules', rule);
export const replaceRule = (id: string, rule: JsonObject) =>
  api.put<Rule>(path('/v1/rules/{id}', id), rule);
export const retireRule = (id: string) => api.delete<void>(path('/v1/rules/{id}', id));
export const ruleVersions = (id: string) =>
  api.get<{ data: DocumentVersion<Rule>[] }>(path('/v1/rules/{id}/versions', id));

export const listCampaigns = () => api.get<{ data: Campaign[] }>('/v1/campaigns');
export const createCampaign = (campaign: JsonObject) =>
  api.post<Campaign>('/v1/campaigns', campaign);
export const replaceCampaign = (id: string, campaign: JsonObject) =>
  api.put<Campaign>(path('/v1/campaigns/{id}', id), campaign);
export const retireCampaign = (id: string) => api.delete<void>(path('/v1/campaigns/{id}', id));
export const campaignVersions = (id: string) =>
  api.get<{ data: DocumentVersion<Campaign>[] }>(path('/v1/campaigns/{id}/versions', id));

export const getTiers = () => api.get<JsonObject>('/v1/tiers');
export const putTiers = (tiers: JsonObject) => api.put<JsonObject>('/v1/tiers', tiers);
export const getEngagement = () => api.get<JsonObject>('/v1/engagement');
export const putEngagement = (engagement: JsonObject) =>
  api.put<JsonObject>('/v1/engagement', engagement);
export const getProgram = () =>
  api.get<{ name: string; currency: string; time_zone: string }>('/v1/program');

// What an event would earn now; nothing is written.
export const dryRun = (event: JsonObject) =>
  api.request<DryRunResult>('/v1/events', {
    method: 'POST',
    body: event,
    query: { dry_run: 'true' },
    idempotencyKey: newIdempotencyKey('console-dry-run'),
  });

export const simulate = (request: JsonObject) =>
  api.post<SimulationReport>('/v1/simulations', request);
