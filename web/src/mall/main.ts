// The member's points mall, served at /: Vant's phone components, the member's session and the
// page routes. A 401 answer anywhere signs the member out and sends them to /login, keeping the
// page they were on to come back to.
import { createApp, watchEffect } from 'vue';
import { createPinia } from 'pinia';
import Vant from 'vant';
import 'vant/lib/index.css';
import App from './App.vue';
import { createMallI18n } from './locales';
import { createMallRouter } from './router';
import { setUnauthenticatedHandler } from './services';
import { useSessionStore } from './stores/session';
import { useAccountStore } from './stores/account';
import { rememberLocale, type Locale } from '@/shared/i18n';

const app = createApp(App);
const pinia = createPinia();
const router = createMallRouter();
const i18n = createMallI18n();
rememberLocale(i18n.global.locale.value as Locale);

app.use(pinia).use(router).use(i18n).use(Vant);

setUnauthenticatedHandler(() => {
  useSessionStore(pinia).signOut();
  useAccountStore(pinia).clear();
  const current = router.currentRoute.value;
  if (current.name !== 'login') {
    void router.replace({ name: 'login', query: { redirect: current.fullPath } });
  }
});

// The tab's title follows the language.
watchEffect(() => {
  document.title = i18n.global.t('app.title', {}, { locale: i18n.global.locale.value });
});

app.mount('#app');
