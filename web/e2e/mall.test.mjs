// The member's mall in Debian's Chromium against a fresh demo store: the demo member signs in,
// checks in, redeems an affordable item with a shipping address and sees their points and the
// item's stock drop; every main page fits a 375 px phone without sideways scrolling; every main
// page renders in English and Simplified Chinese without missing keys or errors.
// Run after `npm run build`: node --test --test-concurrency=1 e2e/mall.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  horizontalOverflow,
  demoServerAndBrowser,
  screenshot,
  watchedPage,
} from './harness.mjs';

const PHONE = { width: 375, height: 812 };
const { server, browser } = await demoServerAndBrowser();

// The number a text shows ("7,500", "Only 3 left", "可用积分 1,234" -> 7500, 3, 1234).
function numberIn(text) {
  const match = /-?[\d,]+/.exec(text.replace(/\s/g, ''));
  assert.ok(match, `no number in ${JSON.stringify(text)}`);
  return Number(match[0].replace(/,/g, ''));
}

async function api(path, token, init = {}) {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
  });
  assert.ok(response.ok, `${path}: ${response.status}`);
  return response.json();
}

async function memberSession() {
  const response = await fetch(`${server.url}/v1/auth/member/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: server.demo.member.login, password: server.demo.member.password }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

// A phone-sized context in a language; `session` (optional) signs the member in without the form.
async function phoneContext(locale, session) {
  const context = await browser.newContext({ viewport: PHONE, locale: locale === 'zh-CN' ? 'zh-CN' : 'en-GB' });
  await context.addInitScript(
    ([language, stored]) => {
      if (!localStorage.getItem('pointsmall.locale')) localStorage.setItem('pointsmall.locale', language);
      if (stored && !sessionStorage.getItem('e2e.seeded')) {
        localStorage.setItem('pointsmall.member.session', stored);
        sessionStorage.setItem('e2e.seeded', '1');
      }
    },
    [locale, session ? JSON.stringify(session) : null],
  );
  return context;
}

// Waits until the page has loaded its data: no request in flight and no skeleton left.
async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[data-testid=loading]'));
}

async function open(page, path) {
  await page.goto(`${server.url}${path}`);
  await settle(page);
}

test('the demo member signs in, checks in and redeems an item; points and stock change', async () => {
  const context = await phoneContext('en');
  // A wrong password is named (on a page of its own: the browser logs the 401 as an error).
  const wrong = await context.newPage();
  await wrong.goto(`${server.url}/login`);
  await wrong.fill('input[name="login"]', server.demo.member.login);
  await wrong.fill('input[name="password"]', 'not-the-password');
  await wrong.click('button[type="submit"]');
  await wrong.waitForSelector('[data-testid=login-error]');
  assert.match(await wrong.textContent('[data-testid=login-error]'), /Wrong login or password/);
  await wrong.close();

  const page = await watchedPage(context);
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/login/);
  await screenshot(page, 'mall-login');
  await page.fill('input[name="login"]', server.demo.member.login);
  await page.fill('input[name="password"]', server.demo.member.password);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${server.url}/`);
  await settle(page);
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('pointsmall.member.session')).token);

  // Check in: the streak goes up by one and the balance on screen becomes the new balance.
  const availableBefore = numberIn(await page.textContent('[data-testid=available-points]'));
  const streakBefore = Number(await page.getAttribute('[data-testid=streak]', 'data-streak'));
  await page.click('[data-testid=checkin-button]');
  await page.waitForSelector('[data-testid=checked-in]');
  await settle(page);
  await page.waitForSelector('.van-toast', { state: 'hidden' });
  const streakAfter = Number(await page.getAttribute('[data-testid=streak]', 'data-streak'));
  assert.equal(streakAfter, streakBefore + 1, 'the streak counts today');
  const balanceAfterCheckin = await api('/v1/me/balance', token);
  const availableAfterCheckin = numberIn(await page.textContent('[data-testid=available-points]'));
  assert.equal(availableAfterCheckin, balanceAfterCheckin.available);
  assert.ok(availableAfterCheckin > availableBefore, `check-in pays points (${availableBefore} -> ${availableAfterCheckin})`);
  assert.match(await page.textContent('[data-testid=streak]'), new RegExp(`Streak: ${streakAfter} day`));
  await screenshot(page, 'mall-home');

  // An affordable physical item in stock, found through the catalog's filter and search.
  const affordable = await api('/v1/me/items?affordable=true', token);
  const item = affordable.data.find(
    (candidate) =>
      candidate.needs_shipping &&
      candidate.on_sale &&
      candidate.stock_left !== null &&
      candidate.stock_left > 1 &&
      candidate.unit_points <= availableAfterCheckin,
  );
  assert.ok(item, 'the demo has an affordable physical item in stock');
  await page.click('[data-testid=tabbar] >> text=Catalog');
  await settle(page);
  await page.click('[data-testid=afford-switch]');
  await page.waitForURL(/affordable=1/);
  await settle(page);
  const shownIds = await page.$$eval('[data-testid=item-card]', (cards) => cards.map((card) => card.dataset.itemId));
  assert.ok(shownIds.length > 0, 'affordable items are listed');
  assert.ok(shownIds.every((id) => affordable.data.some((candidate) => candidate.id === id)), 'only affordable items');
  await screenshot(page, 'mall-catalog');
  // Dearest first: the cards follow the API's order for that choice.
  await page.locator('.van-dropdown-menu__item').nth(1).click();
  await page.getByText('Points: high to low', { exact: true }).click();
  await page.waitForURL(/sort=-points/);
  await settle(page);
  const dearestFirst = await api('/v1/me/items?affordable=true&sort=-points', token);
  const sortedIds = await page.$$eval('[data-testid=item-card]', (cards) => cards.map((card) => card.dataset.itemId));
  assert.deepEqual(sortedIds, dearestFirst.data.slice(0, sortedIds.length).map((candidate) => candidate.id));
  assert.ok(dearestFirst.data[0].unit_points >= dearestFirst.data.at(-1).unit_points, 'dearest first');
  await page.fill('[data-testid=catalog-search] input', item.name);
  await page.press('[data-testid=catalog-search] input', 'Enter');
  await page.waitForURL(/q=/);
  await settle(page);
  await page.click(`[data-testid=item-card][data-item-id="${item.id}"]`);
  await page.waitForURL(new RegExp(`/items/${encodeURIComponent(item.id)}`));
  await settle(page);
  assert.equal((await page.textContent('[data-testid=item-name]')).trim(), item.name);
  const stockBefore = numberIn(await page.textContent('[data-testid=stock-left]'));
  assert.equal(stockBefore, item.stock_left);
  await screenshot(page, 'mall-item');

  // Redeem with a shipping address; the confirmation shows the points now and after.
  await page.click('[data-testid=redeem-button]');
  await page.waitForSelector('[data-testid=address-form]', { state: 'visible' });
  await page.fill('input[name="name"]', 'Ada Lovelace');
  await page.fill('input[name="line1"]', '12 St James Square');
  await page.fill('input[name="city"]', 'London');
  await page.fill('input[name="postal_code"]', 'SW1Y 4JH');
  await page.fill('input[name="country"]', 'GB');
  await page.click('[data-testid=address-next]');
  await page.waitForSelector('[data-testid=redeem-confirm]', { state: 'visible' });
  await page.waitForTimeout(400);
  assert.equal(numberIn(await page.textContent('[data-testid=points-now]')), availableAfterCheckin);
  assert.equal(numberIn(await page.textContent('[data-testid=points-after]')), availableAfterCheckin - item.unit_points);
  await screenshot(page, 'mall-redeem-confirm');
  await page.click('[data-testid=confirm-redeem]');
  await page.waitForURL(/\/redeemed\//);
  const orderId = decodeURIComponent(page.url().split('/redeemed/')[1]);
  await settle(page);

  // Back on the item page: one unit fewer. Home: the price is off the available points.
  await page.goBack();
  await page.waitForURL(new RegExp(`/items/${encodeURIComponent(item.id)}`));
  await settle(page);
  assert.equal(numberIn(await page.textContent('[data-testid=stock-left]')), stockBefore - 1);
  await open(page, '/');
  assert.equal(
    numberIn(await page.textContent('[data-testid=available-points]')),
    availableAfterCheckin - item.unit_points,
  );
  assert.ok(numberIn(await page.textContent('[data-testid=held-points]')) >= item.unit_points, 'the price is held');

  // The order is listed, newest first, and its page shows its timeline.
  await page.click('[data-testid=tabbar] >> text=Orders');
  await settle(page);
  const firstOrder = await page.getAttribute('[data-testid=order-row]', 'data-order-id');
  assert.equal(firstOrder, orderId);
  await screenshot(page, 'mall-orders');
  await page.click(`[data-testid=order-row][data-order-id="${orderId}"]`);
  await page.waitForURL(new RegExp(`/orders/${orderId}`));
  await settle(page);
  assert.match(await page.textContent('[data-testid=order-timeline]'), /Points held|Confirmed|Awaiting payment/);
  assert.ok(await page.isVisible('[data-testid=cancel-order]'), 'a held order can be cancelled');
  await screenshot(page, 'mall-order');

  // A shipped order of the demo history, when there is one, names its carrier and tracking number.
  const history = await api('/v1/me/redemptions?limit=100', token);
  const shipped = history.data.find((order) => order.carrier && order.tracking_number);
  if (shipped) {
    await open(page, `/orders/${shipped.id}`);
    const timeline = await page.textContent('[data-testid=order-timeline]');
    assert.ok(timeline.includes(shipped.carrier) && timeline.includes(shipped.tracking_number), timeline);
    assert.equal(await page.isVisible('[data-testid=cancel-order]'), false, 'a shipped order cannot be cancelled');
    await screenshot(page, 'mall-order');
  }

  // The history says why: the check-in is there with its explanation.
  await open(page, '/history');
  const explanations = await page.$$eval('[data-testid=transaction-explanation]', (nodes) => nodes.map((node) => node.textContent));
  assert.ok(explanations.length > 0, 'transactions explain themselves');
  const lines = await api('/v1/me/transactions?limit=5', token);
  assert.ok(explanations.includes(lines.data[0].explanation), 'the newest line shows the ledger explanation');
  await screenshot(page, 'mall-history');

  for (const [path, name] of [
    ['/coupons', 'mall-coupons'],
    ['/invite', 'mall-invite'],
    ['/me', 'mall-me'],
  ]) {
    await open(page, path);
    await screenshot(page, name);
  }
  const referral = await api('/v1/me/referral', token);
  await open(page, '/invite');
  assert.equal((await page.textContent('[data-testid=referral-code]')).trim(), referral.code);
  assert.match(await page.textContent('[data-testid=referral-link]'), new RegExp(`/login\\?ref=${referral.code}`));

  assert.deepEqual(page.problems(), []);
  await context.close();
});

// Every main page, with the ids it needs from the member's own data.
async function mainPages(token) {
  const items = await api('/v1/me/items', token);
  const orders = await api('/v1/me/redemptions?limit=1', token);
  assert.ok(items.data.length > 0, 'the demo catalog has items');
  const pages = [
    ['home', '/'],
    ['catalog', '/catalog'],
    ['item', `/items/${encodeURIComponent(items.data[0].id)}`],
    ['orders', '/orders'],
    ['coupons', '/coupons'],
    ['history', '/history'],
    ['invite', '/invite'],
    ['me', '/me'],
  ];
  if (orders.data.length > 0) pages.splice(4, 0, ['order', `/orders/${orders.data[0].id}`]);
  return pages;
}

test('every main page fits a 375 px phone without sideways scrolling', async () => {
  const session = await memberSession();
  const pages = await mainPages(session.token);
  assert.ok(pages.some(([name]) => name === 'order'), 'an order page is checked (the first test made one)');
  const context = await phoneContext('en', session);
  const page = await watchedPage(context);
  for (const [name, path] of pages) {
    await open(page, path);
    assert.equal(await horizontalOverflow(page), 0, `${name} (${path}) scrolls sideways`);
  }
  assert.deepEqual(page.problems(), []);
  await context.close();
});

test('every main page renders in English and Simplified Chinese without missing keys or errors', async () => {
  const session = await memberSession();
  const pages = await mainPages(session.token);
  const titles = { en: 'Points history', 'zh-CN': '积分明细' };
  for (const locale of ['en', 'zh-CN']) {
    const context = await phoneContext(locale, session);
    const page = await watchedPage(context);
    for (const [name, path] of pages) {
      await open(page, path);
      if (locale === 'zh-CN') {
        const text = await page.evaluate(() => document.body.innerText);
        assert.match(text, /[\u4e00-\u9fff]/, `${name} shows Chinese`);
        assert.equal(await horizontalOverflow(page), 0, `${name} (${path}) scrolls sideways in Chinese`);
      }
      if (name === 'home' && locale === 'zh-CN') await screenshot(page, 'mall-home-zh');
    }
    await open(page, '/history');
    assert.match(await page.textContent('.van-nav-bar__title'), new RegExp(titles[locale]));
    assert.deepEqual(page.problems(), [], `${locale}: ${page.problems().join('; ')}`);
    await context.close();
  }
});

test('the language switch changes the language and remembers it', async () => {
  const session = await memberSession();
  const context = await phoneContext('en', session);
  const page = await watchedPage(context);
  await open(page, '/me');
  assert.match(await page.textContent('[data-testid=sign-out]'), /Sign out/);
  await page.click('[data-testid=language-switch] [data-locale="zh-CN"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=sign-out]')?.textContent?.includes('退出登录'));
  await page.reload();
  await settle(page);
  assert.match(await page.textContent('[data-testid=sign-out]'), /退出登录/);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await page.click('[data-testid=language-switch] [data-locale="en"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=sign-out]')?.textContent?.includes('Sign out'));
  // Signing out forgets the session: the next page asks to sign in again.
  await page.click('[data-testid=sign-out]');
  await page.waitForURL(/\/login/);
  await page.goto(`${server.url}/orders`);
  await page.waitForURL(/\/login\?redirect=/);
  assert.deepEqual(page.problems(), []);
  await context.close();
});
