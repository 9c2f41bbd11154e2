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

// The console's icon, inline: without one the browser asks the server for /favicon.ico.
if (!document.querySelector('link[rel="icon"]')) {
  const icon = document.createElement('link');
  icon.rel = 'icon';
  icon.href =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23409eff'/%3E%3C/svg%3E";
  document.head.appendChild(icon);
}

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
