import { api } from './client';
import type { OverviewReport } from './types';

// `from` and `until` are calendar dates (YYYY-MM-DD) of the program's time zone, both included.
export const overview = (from: string, until: string) =>
  api.get<OverviewReport>('/v1/reports/overview', { from, until });
