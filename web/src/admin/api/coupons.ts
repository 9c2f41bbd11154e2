import type { Page } from '@/shared/api';
import { api, path } from './client';
import type { Coupon, CouponTemplate, DocumentVersion, JsonObject } from './types';

export const listTemplates = () => api.get<{ data: CouponTemplate[] }>('/v1/coupon-templates');
export const createTemplate = (template: JsonObject) =>
  api.post<CouponTemplate>('/v1/coupon-templates', template);
export const replaceTemplate = (id: string, template: JsonObject) =>
  api.put<CouponTemplate>(path('/v1/coupon-templates/{id}', id), template);
export const retireTemplate = (id: string) =>
  api.delete<void>(path('/v1/coupon-templates/{id}', id));
export const templateVersions = (id: string) =>
  api.get<{ data: DocumentVersion<CouponTemplate>[] }>(
    path('/v1/coupon-templates/{id}/versions', id),
  );

export interface IssueResult {
  issued: { member_id: number; code: string }[];
  refused: { member_id: number; type: string; detail: string }[];
}
export const issueCoupons = (id: string, memberIds: number[], idempotencyKey: string) =>
  api.post<IssueResult>(
    path('/v1/coupon-templates/{id}/issues', id),
    { member_ids: memberIds },
    idempotencyKey,
  );

export interface PoolImport {
  template_id: string;
  imported: number;
  already_existing: number;
  rejected_rows: number;
  duplicate_rows: number;
  rejected: { line: number; code: string; reason: string }[];
  duplicates: { line: number; code: string; first_line: number }[];
  summary: string;
}
export const importPool = (id: string, csv: string) =>
  api.request<PoolImport>(path('/v1/coupon-templates/{id}/pool', id), {
    method: 'POST',
    rawBody: { contentType: 'text/csv', text: csv },
  });

export const getCoupon = (code: string) => api.get<Coupon>(path('/v1/coupons/{code}', code));

export interface Validation {
  code: string;
  valid: true;
  discount: { amount: number; currency: string };
  template: { id: string; name: string };
  stackable: boolean;
}
export const validateCoupon = (
  code: string,
  memberId: number,
  order: { currency: string; amount: number },
) => api.post<Validation>('/v1/coupons/validate', { code, member_id: memberId, order });

export type { Page };
