// The mall's pages. Every page but /login needs a signed-in member; an unsigned visit goes to
// /login?redirect=<where they were going> and comes back after signing in.
import { createRouter, createWebHistory, type Router } from 'vue-router';
import { useSessionStore } from './stores/session';

export const TAB_PAGES = ['home', 'catalog', 'orders', 'me'] as const;

export function createMallRouter(): Router {
  const router = createRouter({
    history: createWebHistory('/'),
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
    routes: [
      { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
      { path: '/', name: 'home', component: () => import('./views/HomeView.vue') },
      { path: '/catalog', name: 'catalog', component: () => import('./views/CatalogView.vue') },
      { path: '/items/:id', name: 'item', component: () => import('./views/ItemView.vue'), props: true },
      { path: '/redeemed/:id', name: 'redeemed', component: () => import('./views/RedeemedView.vue'), props: true },
      { path: '/orders', name: 'orders', component: () => import('./views/OrdersView.vue') },
      { path: '/orders/:id', name: 'order', component: () => import('./views/OrderView.vue'), props: true },
      { path: '/coupons', name: 'coupons', component: () => import('./views/CouponsView.vue') },
      { path: '/history', name: 'history', component: () => import('./views/HistoryView.vue') },
      { path: '/invite', name: 'invite', component: () => import('./views/InviteView.vue') },
      { path: '/me', name: 'me', component: () => import('./views/MeView.vue') },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  });
  router.beforeEach((to) => {
    if (to.meta.public) return true;
    if (useSessionStore().isSignedIn()) return true;
    return { name: 'login', query: { redirect: to.fullPath } };
  });
  return router;
}
