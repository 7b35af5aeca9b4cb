const { test, expect } = require('./fixtures');
const {
  logIn, auditOf, PASSWORD, keepScreenshot, expectAccessible, expectTabStaysInside, activate,
} = require('./helpers');

function firstDevice(page) {
  return page.getByTestId('device-row').first();
}

test('the prompt says what activation needs; Activate Later starts one session, Cancel and Escape none', async ({ page }) => {
  const email = 'tech@northwind.example';
  await logIn(page, email, PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Taylor Reed');

  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Two-Factor Authentication' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Take Control and Remote Background Management');
  // Required from 00:00 UTC on a date: the last day to choose later is the day before, in UTC.
  await expect(dialog).toContainText(/You can choose Activate Later until the end of \d{1,2} \w{3} \d{4} \(UTC\)\./);
  await expect(dialog.getByRole('note')).toContainText(
    'Important! To activate 2FA, you need to be logging into the Dashboard with a valid email address, and you need your smartphone to install an ‘authenticator’ app.',
  );
  await expect(dialog.getByRole('button', { name: 'Activate Now' })).toBeFocused();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeVisible();
  await expectAccessible(page, 'the prompt');
  await keepScreenshot(page, 'prompt');
  await expectTabStaysInside(page, '[role=dialog]');

  // Escape and Cancel close it without a session.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('status', { name: 'Remote session' })).toHaveCount(0);

  // A double click on Activate Later starts one session.
  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  await dialog.getByRole('button', { name: 'Activate Later' }).dblclick();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('status', { name: 'Remote session' })).toContainText('Take Control session');
  await expect(page.getByTestId('session-device')).toContainText('ACCT-LAPTOP-07');

  // The prompt comes back on the next start.
  await firstDevice(page).getByRole('button', { name: 'Remote Background Management' }).dblclick();
  await dialog.getByRole('button', { name: 'Activate Later' }).click();
  await expect(page.getByTestId('session-kind')).toHaveText('Remote Background Management');

  const events = auditOf(email);
  const deferrals = events.filter((e) => e.action === 'remote.deferred');
  expect(deferrals).toHaveLength(2);
  expect(events.filter((e) => e.action === 'remote.started')).toHaveLength(2);
  expect(deferrals.map((e) => e.detail).join(' ')).toContain('Take Control');
  expect(deferrals.map((e) => e.detail).join(' ')).toContain('Remote Background Management');
});

test('Activate Now leads through activation back to a session with no prompt', async ({ page }) => {
  const email = 'jordan@northwind.example';
  await logIn(page, email, PASSWORD);
  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Two-Factor Authentication' });
  await dialog.getByRole('button', { name: 'Activate Now' }).click();

  // Logged out to the login screen, which then runs the activation flow.
  await expect(page.getByRole('status')).toContainText('Log in again to set up two-factor authentication');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await activate(page, email, 'Jordan Lee');
  // The "log in again" notice belonged to the login; it is gone.
  await expect(page.getByText('Log in again to set up two-factor authentication')).toHaveCount(0);

  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  await expect(page.getByTestId('session-kind')).toHaveText('Take Control');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(auditOf(email).map((e) => e.action)).toContain('2fa.activate_now');
});

test('past the enforcement date the prompt offers only Activate Now', async ({ page }) => {
  await logIn(page, 'pat@contoso.example', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Pat Rivera');
  await firstDevice(page).getByRole('button', { name: 'Take Control' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable Two-Factor Authentication' });
  await expect(dialog).toContainText('is now required to use Take Control and Remote Background Management');
  await expect(dialog.getByRole('button', { name: 'Activate Now' })).toBeFocused();
  await expect(dialog.getByRole('button', { name: 'Activate Later' })).toHaveCount(0);
  // Escape only closes it: no session starts.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('status', { name: 'Remote session' })).toHaveCount(0);
});
