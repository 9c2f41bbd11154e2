import { api } from './client';
import type { OperatorSession } from './types';

export const login = (name: string, password: string, totp_code: string) =>
  api.post<OperatorSession>('/v1/auth/operator/login', { name, password, totp_code });
export const currentSession = () => api.get<OperatorSession>('/v1/auth/operator/session');
export const logout = () => api.post<void>('/v1/auth/operator/logout', {});
