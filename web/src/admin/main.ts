// The operators' console, served at /admin/.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import { rememberLocale } from '@/shared/i18n';
import App from './App.vue';
import { onUnauthenticated } from './api/client';
import { i18n } from './i18n';
import { router } from './router';
import { useSessionStore } from './stores/session';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia).use(i18n).use(router).use(ElementPlus);
rememberLocale(i18n.global.locale.value);

// A call answered 401 means the session ended (expired or signed out elsewhere).
onUnauthenticated(() => {
  const session = useSessionStore(pinia);
  if (!session.signedIn) return;
  session.forget();
  void router.push({ name: 'login', query: { expired: '1' } });
});

app.mount('#app');
