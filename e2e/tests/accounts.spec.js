const { test, expect } = require('./fixtures');
const { logIn, logOut, ageSessions, PASSWORD, userRow, openUserAccounts, subjectsTo } = require('./helpers');

test('administrators manage 2FA from User Accounts and General Settings', async ({ page }) => {
  await logIn(page, 'admin@northwind.example', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Alex Morgan');

  await test.step('the grid shows the three states with text alternatives and a legend', async () => {
    const dialog = await openUserAccounts(page);
    await expect(userRow(page, 'sam@northwind.example').getByRole('img', { name: '2FA active' })).toBeVisible();
    await expect(userRow(page, 'casey@northwind.example').getByRole('img', { name: '2FA enabled, not yet activated' })).toBeVisible();
    await expect(userRow(page, 'admin@northwind.example').getByRole('img', { name: '2FA off' })).toBeVisible();
    await expect(dialog.getByText('2FA column:')).toBeVisible();
    await expect(dialog.getByTestId('info')).toContainText('set per user');
  });

  await test.step('right-click a user, Enable 2FA: a grey tick, and the user is told by email', async () => {
    await userRow(page, 'riley@northwind.example').click({ button: 'right' });
    const menu = page.getByRole('menu', { name: 'Actions for Riley Chen' });
    await expect(menu).toBeVisible();
    // Pause IP verification is offered only for users with active 2FA.
    await expect(menu.getByRole('menuitem', { name: 'Pause IP verification' })).toHaveCount(0);
    await menu.getByRole('menuitem', { name: 'Enable 2FA' }).click();
    await expect(userRow(page, 'riley@northwind.example').getByRole('img', { name: '2FA enabled, not yet activated' })).toBeVisible();
    await expect.poll(() => subjectsTo('riley@northwind.example')).toContain('Two-factor authentication was enabled for your MSP Dashboard login');
  });

  await test.step('from the keyboard, a colleague disables 2FA for a user who lost their phone', async () => {
    // The login was a while ago: lowering security asks for the password again first.
    ageSessions('admin@northwind.example');
    await userRow(page, 'sam@northwind.example').focus();
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu', { name: 'Actions for Sam Patel' });
    await expect(menu.getByRole('menuitem', { name: 'Pause IP verification' })).toBeVisible();
    await menu.getByRole('menuitem', { name: 'Disable 2FA' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Disable 2FA for Sam Patel?' });
    await confirm.getByRole('button', { name: 'Disable 2FA' }).click();
    const password = confirm.getByLabel('To confirm, enter your password.');
    await expect(password).toBeFocused();
    await expect(userRow(page, 'sam@northwind.example').getByRole('img', { name: '2FA active' })).toBeVisible();
    await password.fill('not-my-password');
    await password.press('Enter');
    await expect(confirm.getByRole('alert')).toHaveText('That password is not correct.');
    await password.fill(PASSWORD);
    await confirm.getByRole('button', { name: 'Disable 2FA' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(userRow(page, 'sam@northwind.example').getByRole('img', { name: '2FA off' })).toBeVisible();
  });

  await test.step('the audit log shows who did what', async () => {
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Audit log' }).click();
    const log = page.getByRole('dialog', { name: 'Audit log' });
    await expect(log.getByTestId('audit-row').filter({ hasText: '2FA disabled by an administrator' })).toContainText('Sam Patel');
    await log.getByLabel('Event').selectOption('2fa.enabled_by_admin');
    await expect(log.getByTestId('audit-row')).toHaveCount(1);
    await expect(log.getByTestId('audit-row')).toContainText('Riley Chen');
    await page.getByRole('button', { name: 'Close' }).click();
    await logOut(page);
  });

  await test.step("the enabled user's next login goes into activation", async () => {
    await logIn(page, 'riley@northwind.example', PASSWORD);
    await expect(page.getByRole('heading', { name: 'Turn on two-factor authentication' })).toBeVisible();
    await logOut(page, 'Cancel and log out');
  });

  await test.step('the user whose 2FA was disabled logs in with the password only', async () => {
    await logIn(page, 'sam@northwind.example', PASSWORD);
    await expect(page.getByTestId('user-name')).toHaveText('Sam Patel');
    await logOut(page);
  });

  await test.step('account-wide 2FA disables the per-user items and the Info section says so', async () => {
    await logIn(page, 'admin@northwind.example', PASSWORD);
    await page.getByRole('button', { name: 'General Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'General Settings' });
    await settings.getByLabel('Two-factor authentication for every user (account-wide)').check();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(settings.getByRole('status')).toHaveText('Settings saved.');
    await page.getByRole('button', { name: 'Close' }).click();

    const dialog = await openUserAccounts(page);
    await expect(dialog.getByTestId('info')).toContainText('on for the whole account');
    await userRow(page, 'tech@northwind.example').click({ button: 'right' });
    const menu = page.getByRole('menu', { name: 'Actions for Taylor Reed' });
    await expect(menu.getByRole('menuitem', { name: 'Enable 2FA' })).toHaveAttribute('aria-disabled', 'true');
    await expect(menu).toContainText('on for the whole account');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Close' }).click();

    // Back to per-user 2FA, so the demo account is as it was.
    await page.getByRole('button', { name: 'General Settings' }).click();
    await settings.getByLabel('Two-factor authentication for every user (account-wide)').uncheck();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect(settings.getByRole('status')).toHaveText('Settings saved.');
  });
});
