// The operators' console in a real browser against a fresh demo store: sign-in with password and
// TOTP, the dashboard's charts and cards, a double-points campaign made in the UI that doubles a
// purchase's points (the member then sees it in the mall's history), every page in English and
// Chinese without page errors, missing translations or server failures, and screenshots of each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { demoServerAndBrowser, nextTotp, screenshot, watchedPage } from './harness.mjs';

const { server, browser } = await demoServerAndBrowser();

const PAGES = [
  ['dashboard', '/admin/'],
  ['members', '/admin/members'],
  ['member', null], // the demo member's page, filled in below
  ['catalog', '/admin/catalog'],
  ['orders', '/admin/orders'],
  ['rules', '/admin/program?tab=rules'],
  ['campaigns', '/admin/program?tab=campaigns'],
  ['tiers', '/admin/program?tab=tiers'],
  ['engagement', '/admin/program?tab=engagement'],
  ['dryRun', '/admin/program?tab=dryRun'],
  ['backTest', '/admin/program?tab=backTest'],
  ['coupons', '/admin/coupons'],
  ['access', '/admin/access'],
];

async function newContext(locale) {
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    locale: locale === 'zh-CN' ? 'zh-CN' : 'en-GB',
  });
  await context.addInitScript((chosen) => localStorage.setItem('pointsmall.locale', chosen), locale);
  return context;
}

async function signIn(page) {
  const { operator } = server.demo;
  await page.goto(`${server.url}/admin/login`);
  await page.fill('input[name="name"]', operator.name);
  await page.fill('input[name="password"]', operator.password);
  await page.fill('input[name="totp"]', await nextTotp(operator.totp_secret));
  await page.click('button[type="submit"]');
  await page.waitForSelector('[data-testid="operator"]');
}

// Settles a page: no request in flight and no loading skeleton left.
async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[data-testid="state-loading"]'), null, {
    timeout: 15_000,
  });
}

async function numberIn(page, selector) {
  const text = await page.locator(selector).innerText();
  return Number(text.replace(/[^\d-]/g, ''));
}

async function memberPoints(page, memberId, amount) {
  await page.goto(`${server.url}/admin/program?tab=dryRun`);
  await page.locator('[data-testid="dry-run-member"] input').fill(String(memberId));
  await page.locator('[data-testid="dry-run-amount"] input').fill(String(amount));
  await page.keyboard.press('Tab');
  await page.click('[data-testid="dry-run-submit"]');
  const result = page.locator('[data-testid="dry-run-points"]');
  await result.waitFor();
  return Number(await result.getAttribute('data-points'));
}

test('an operator signs in, reads the dashboard and doubles points with a campaign', async () => {
  const context = await newContext('en');
  const page = await watchedPage(context);
  const memberId = server.demo.member.id;

  await page.goto(`${server.url}/admin/`);
  await page.waitForSelector('input[name="totp"]');
  await screenshot(page, 'console-login');

  // A wrong password is refused with a clear message (on a page of its own: the browser logs
  // the expected 401 as a console error).
  const refused = await context.newPage();
  await refused.goto(`${server.url}/admin/login`);
  await refused.fill('input[name="name"]', server.demo.operator.name);
  await refused.fill('input[name="password"]', 'not-the-password');
  await refused.fill('input[name="totp"]', '000000');
  await refused.click('button[type="submit"]');
  await refused.waitForSelector('[data-testid="login-error"]');
  assert.match(await refused.locator('[data-testid="login-error"]').innerText(), /wrong/i);
  await refused.close();

  await signIn(page);
  assert.match(await page.locator('[data-testid="operator"]').innerText(), new RegExp(server.demo.operator.name));

  // Dashboard: three charts drawn on canvas, cards with numbers.
  await page.goto(`${server.url}/admin/`);
  await page.waitForSelector('[data-testid="card-outstanding"]', { timeout: 20_000 });
  await settle(page);
  assert.ok((await page.locator('[data-testid="chart"] canvas').count()) >= 3, 'three charts');
  for (const card of ['outstanding', 'liability', 'redemptionRate', 'members']) {
    assert.match(await page.locator(`[data-testid="card-${card}"]`).innerText(), /\d/, card);
  }
  assert.ok((await numberIn(page, '[data-testid="card-members"] .card-value')) > 0, 'members');
  await screenshot(page, 'console-dashboard');

  // Members list and the demo member's page.
  await page.goto(`${server.url}/admin/members`);
  await page.waitForSelector('[data-testid="members-table"] .el-table__row');
  await settle(page);
  await screenshot(page, 'console-members');
  await page.goto(`${server.url}/admin/members/${memberId}`);
  await page.waitForSelector('[data-testid="balance-available"]');
  await settle(page);
  await screenshot(page, 'console-member');

  await page.goto(`${server.url}/admin/catalog`);
  await page.waitForSelector('[data-testid="catalog-table"] .el-table__row');
  await settle(page);
  assert.ok((await page.locator('[data-testid="catalog-table"] .el-table__row').count()) >= 10);
  await screenshot(page, 'console-catalog');

  await page.goto(`${server.url}/admin/orders`);
  await settle(page);
  await screenshot(page, 'console-orders');

  // What a purchase earns before the campaign.
  const amount = 2500;
  const before = await memberPoints(page, memberId, amount);
  assert.ok(before > 0, `the dry run earns points (${before})`);

  // A double-points campaign on purchases, starting now, made with the form.
  const name = `Double points ${randomUUID().slice(0, 6)}`;
  const campaignId = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  await page.goto(`${server.url}/admin/program?tab=campaigns`);
  await settle(page);
  await page.click('[data-testid="new-campaign"]');
  await page.fill('input[name="campaign-name"]', name);
  await page.click('[data-testid="campaign-start-now"]');
  assert.equal(await page.locator('input[name="campaign-percent"]').inputValue(), '200');
  await screenshot(page, 'console-campaign-form');
  await page.click('[data-testid="save-campaign"]');
  await page.locator('[data-testid="campaigns-table"]').getByText(name).waitFor();

  // A purchase now earns exactly double, and says which campaign.
  const response = await fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${server.demo.api_key}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': `e2e-${randomUUID()}`,
    },
    body: JSON.stringify({
      type: 'purchase',
      member_id: memberId,
      order_id: `e2e-${randomUUID().slice(0, 8)}`,
      amount: { amount, currency: 'GBP' },
    }),
  });
  assert.ok(response.ok, `${response.status} ${await response.clone().text()}`);
  const earned = await response.json();
  assert.equal(earned.points, before * 2);
  assert.ok(earned.explanation.some((line) => line.campaign === campaignId), JSON.stringify(earned));

  // The member sees the purchase in the mall's history, with the campaign by the name the
  // operator gave it.
  const mallContext = await newContext('en');
  const mall = await mallContext.newPage();
  await mall.goto(`${server.url}/login`);
  await mall.fill('input[name="login"]', server.demo.member.login);
  await mall.fill('input[name="password"]', server.demo.member.password);
  await mall.click('button[type="submit"]');
  await mall.waitForURL((url) => url.pathname === '/');
  await mall.goto(`${server.url}/history`);
  await mall
    .locator('[data-testid="transaction"]')
    .first()
    .locator('[data-testid="transaction-rule"]')
    .getByText(name, { exact: true })
    .waitFor({ timeout: 15_000 });
  await screenshot(mall, 'mall-history-campaign');
  await mallContext.close();

  // The tiers in their form: the operator renames the second tier and saves; the program has it.
  await page.goto(`${server.url}/admin/program?tab=tiers`);
  await page.waitForSelector('[data-testid="tiers-form"] [data-testid="tier-row"]');
  await settle(page);
  const tierName = `Silver ${randomUUID().slice(0, 4)}`;
  await page.fill('input[name="tier-name-1"]', tierName);
  await screenshot(page, 'console-tiers');
  await page.click('[data-testid="save-tiers"]');
  await page.locator('.el-message--success').first().waitFor();
  const tiers = await (
    await fetch(`${server.url}/v1/tiers`, { headers: { Authorization: `Bearer ${server.demo.api_key}` } })
  ).json();
  assert.equal(tiers.tiers[1].name, tierName, JSON.stringify(tiers));

  // A back-test of the example draft draws its chart and the by-rule table.
  await page.goto(`${server.url}/admin/program?tab=backTest`);
  await page.click('[data-testid="run-back-test"]');
  await page.waitForSelector('[data-testid="back-test-result"] [data-testid="chart"] canvas', { timeout: 60_000 });
  await settle(page);
  assert.ok((await page.locator('[data-testid="back-test-result"] .el-table__row').count()) > 0);
  await screenshot(page, 'console-backtest');

  await page.goto(`${server.url}/admin/coupons`);
  await settle(page);
  await screenshot(page, 'console-coupons');
  await page.goto(`${server.url}/admin/access`);
  await page.waitForSelector('[data-testid="keys-table"] .el-table__row');
  await settle(page);
  await screenshot(page, 'console-access');

  assert.deepEqual(page.problems(), []);
  await context.close();
});

for (const locale of ['en', 'zh-CN']) {
  test(`every console page renders in ${locale} without problems`, async () => {
    const context = await newContext(locale);
    const page = await watchedPage(context);
    await signIn(page);
    const menu = await page.locator('[data-testid="menu-dashboard"]').innerText();
    assert.equal(menu.trim(), locale === 'en' ? 'Dashboard' : '概览');
    for (const [name, path] of PAGES) {
      await page.goto(`${server.url}${path ?? `/admin/members/${server.demo.member.id}`}`);
      await settle(page);
      assert.equal(await page.locator('[data-testid="state-error"]').count(), 0, `${name} shows an error`);
      if (name === 'dashboard' && locale === 'zh-CN') {
        await page.waitForSelector('[data-testid="chart"] canvas');
        await screenshot(page, 'console-dashboard-zh');
      }
    }
    // The switch turns the language over in place.
    await page.click(`[data-testid="language-switch"] [data-locale="${locale === 'en' ? 'zh-CN' : 'en'}"]`);
    assert.equal(
      (await page.locator('[data-testid="menu-dashboard"]').innerText()).trim(),
      locale === 'en' ? '概览' : 'Dashboard',
    );
    assert.deepEqual(page.problems(), []);
    await context.close();
  });
}
