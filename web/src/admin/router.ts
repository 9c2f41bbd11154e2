// The console's pages under /admin/. Every page but the sign-in needs a session; the access page
// needs an admin.
import { createRouter, createWebHistory } from 'vue-router';
import { useSessionStore } from './stores/session';
import type { Permission } from './lib/permissions';

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean;
    needs?: Permission;
  }
}

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./views/ShellView.vue'),
      children: [
        { path: '', name: 'dashboard', component: () => import('./views/DashboardView.vue') },
        { path: 'members', name: 'members', component: () => import('./views/MembersView.vue') },
        {
          path: 'members/:id',
          name: 'member',
          component: () => import('./views/MemberView.vue'),
          props: (route) => ({ id: Number(route.params.id) }),
        },
        { path: 'catalog', name: 'catalog', component: () => import('./views/CatalogView.vue') },
        { path: 'orders', name: 'orders', component: () => import('./views/OrdersView.vue') },
        { path: 'program', name: 'program', component: () => import('./views/ProgramView.vue') },
        { path: 'coupons', name: 'coupons', component: () => import('./views/CouponsView.vue') },
        {
          path: 'access',
          name: 'access',
          component: () => import('./views/AccessView.vue'),
          meta: { needs: 'access.manage' },
        },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});

router.beforeEach(async (to) => {
  const session = useSessionStore();
  try {
    await session.restore();
  } catch {
    // The server cannot be reached: the sign-in page says so when it is tried.
  }
  if (to.meta.public) return session.signedIn && to.name === 'login' ? { name: 'dashboard' } : true;
  if (!session.signedIn) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  if (to.meta.needs && !session.can(to.meta.needs)) return { name: 'dashboard' };
  return true;
});
