// The journeys' edges: keyboard and focus in the admin dialogs, a menu that stays in the window,
// a modal confirmation, an ended session, and an audit log and settings that read in words.
const { test, expect } = require('./fixtures');
const {
  logIn, PASSWORD, keepScreenshot, expectAccessible, expectTabStaysInside, openUserAccounts, changeSettings,
} = require('./helpers');

const ADMIN = 'admin@northwind.example';

test('the admin dialogs keep the keyboard, the menu stays in the window, the confirmation is modal', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await logIn(page, ADMIN, PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Alex Morgan');
  const dialog = await openUserAccounts(page);

  await test.step('the dialog takes focus, Tab stays inside it', async () => {
    await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
    await expectTabStaysInside(page, '#admin-dialog');
    await expectAccessible(page, 'User Accounts');
    await keepScreenshot(page, 'user-accounts-grid');
  });

  await test.step('the menu of the lowest row opens fully inside the window', async () => {
    const lowest = dialog.getByTestId('user-row').last();
    await lowest.scrollIntoViewIfNeeded();
    const row = await lowest.boundingBox();
    await page.mouse.click(row.x + 60, Math.min(row.y + row.height - 2, 718), { button: 'right' });
    const menu = page.getByRole('menu');
    await expect(menu).toBeVisible();
    await expect.poll(async () => {
      const box = await menu.boundingBox();
      return box.y >= 0 && box.x >= 0 && box.y + box.height <= 720 && box.x + box.width <= 1280;
    }).toBe(true);
    await keepScreenshot(page, 'user-accounts-context-menu');
    await page.keyboard.press('Escape');
    await expect(menu).toHaveCount(0);
  });

  await test.step('arrow keys, Home and End move through the menu; Escape gives focus back to the row', async () => {
    const row = page.locator('tr[data-email="lee@northwind.example"]');
    await row.focus();
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu', { name: 'Actions for Lee Novak' });
    const items = menu.getByRole('menuitem');
    await expect(items.first()).toBeFocused();
    const count = await items.count();
    await page.keyboard.press('End');
    await expect(items.nth(count - 1)).toBeFocused();
    await page.keyboard.press('Home');
    await expect(items.first()).toBeFocused();
    if (count > 1) {
      await page.keyboard.press('ArrowDown');
      await expect(items.nth(1)).toBeFocused();
      await page.keyboard.press('ArrowUp');
      await expect(items.first()).toBeFocused();
    }
    await page.keyboard.press('Escape');
    await expect(menu).toHaveCount(0);
    await expect(row).toBeFocused();
    await expect(dialog).toBeVisible();
  });

  await test.step('the confirmation is modal, focuses Cancel and keeps Tab inside', async () => {
    await page.locator('tr[data-email="quinn@northwind.example"]').click({ button: 'right' });
    await page.getByRole('menu').getByRole('menuitem', { name: 'Reset 2FA' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Reset 2FA for Quinn Walsh?' });
    await expect(confirm).toBeVisible();
    await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
    // A backdrop covers the grid: a click on it reaches no row.
    const hit = await page.evaluate(() => document.elementFromPoint(20, 20)?.closest('.confirm-backdrop') !== null);
    expect(hit).toBe(true);
    await expectTabStaysInside(page, '.confirm');
    await page.keyboard.press('Escape');
    await expect(confirm).toHaveCount(0);
    await expect(page.locator('tr[data-email="quinn@northwind.example"]').getByRole('img', { name: '2FA active' })).toBeVisible();
  });

  await test.step('Escape closes the dialog', async () => {
    await expect(page.locator('tr[data-email="quinn@northwind.example"]')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
  });
});

test('the audit log reads in words and names devices as the dashboard does', async ({ page }) => {
  await logIn(page, ADMIN, PASSWORD);
  const device = page.getByTestId('device-row').first();
  const name = (await device.locator('td').first().innerText()).trim();
  await device.getByRole('button', { name: 'Take Control' }).click();
  await page.getByRole('dialog', { name: 'Enable Two-Factor Authentication' }).getByRole('button', { name: 'Activate Later' }).click();
  await expect(page.getByTestId('session-kind')).toHaveText('Take Control');

  await page.getByRole('button', { name: 'Audit log' }).click();
  const log = page.getByRole('dialog', { name: 'Audit log' });
  await log.getByLabel('Event').selectOption({ label: 'Remote session started' });
  const row = log.getByTestId('audit-row').first();
  await expect(row).toContainText('Remote session started');
  await expect(row).toContainText(`Take Control on ${name}`);
  await expect(row.locator('[data-code="remote.started"]')).toHaveAttribute('title', 'remote.started');
  await expectAccessible(page, 'audit log');
  await keepScreenshot(page, 'audit-log');
  await expectTabStaysInside(page, '#admin-dialog');
  await page.keyboard.press('Escape');
  await expect(log).toHaveCount(0);
});

test('General Settings says when enforcement starts and warns before account-wide 2FA', async ({ page }) => {
  await logIn(page, ADMIN, PASSWORD);
  await page.getByRole('button', { name: 'General Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'General Settings' });
  await expect(settings.getByLabel(/from \(00:00 UTC on that day\)/)).toBeVisible();
  const wide = settings.getByLabel('Two-factor authentication for every user (account-wide)');
  await wide.check();
  await expect(settings.getByRole('note')).toContainText('every other user who has not activated 2FA is logged out');
  await expectAccessible(page, 'General Settings');
  await keepScreenshot(page, 'general-settings');
  await wide.uncheck();
  await expect(settings.getByRole('note')).toHaveCount(0);
  await expectTabStaysInside(page, '#admin-dialog');
  await page.keyboard.press('Escape');
  await expect(settings).toHaveCount(0);
});

test('a session ended elsewhere returns the user to the login screen, saying why', async ({ page, browser }) => {
  await logIn(page, 'lee@northwind.example', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Lee Novak');

  // An administrator switches account-wide 2FA on in their own browser.
  const other = await browser.newContext();
  const admin = await other.newPage();
  await logIn(admin, ADMIN, PASSWORD);
  await expect(admin.getByTestId('user-name')).toHaveText('Alex Morgan');
  const wide = (settings) => settings.getByLabel('Two-factor authentication for every user (account-wide)');
  try {
    await changeSettings(admin, (settings) => wide(settings).check());
    await page.getByTestId('device-row').first().getByRole('button', { name: 'Take Control' }).click();
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    await expect(page.getByRole('status')).toContainText('two-factor authentication is now required for everyone in your account');
  } finally {
    // Back to per-user 2FA, so the demo account is as it was.
    await changeSettings(admin, (settings) => wide(settings).uncheck());
    await other.close();
  }
});
