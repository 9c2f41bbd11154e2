// What the home page and the redeem flow show of the member's account: balance, tier and
// check-in state. Always fetched fresh (`refresh`) when a page opens and after anything that
// changes points, so no page shows a stale balance.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { Balance, CheckinResult, CheckinStatus, MemberTier } from '../api';
import { api } from '../services';
import { Attempt } from '../attempt';

export const useAccountStore = defineStore('account', () => {
  const balance = ref<Balance | null>(null);
  const tier = ref<MemberTier | null>(null);
  const checkin = ref<CheckinStatus | null>(null);
  // A retry of a check-in whose answer was lost reuses its key.
  const checkinAttempt = new Attempt('checkin');

  async function refreshBalance(): Promise<Balance> {
    balance.value = await api.balance();
    return balance.value;
  }

  async function refresh(): Promise<void> {
    const [nextBalance, nextTier, nextCheckin] = await Promise.all([
      api.balance(),
      api.tier(),
      api.checkins(),
    ]);
    balance.value = nextBalance;
    tier.value = nextTier;
    checkin.value = nextCheckin;
  }

  async function checkIn(): Promise<CheckinResult> {
    try {
      const result = await api.checkIn(checkinAttempt.keyFor());
      checkinAttempt.settle();
      return result;
    } catch (error) {
      checkinAttempt.settle(error);
      throw error;
    } finally {
      await refresh().catch(() => undefined);
    }
  }

  function clear(): void {
    balance.value = null;
    tier.value = null;
    checkin.value = null;
  }

  return { balance, tier, checkin, refresh, refreshBalance, checkIn, clear };
});
