const { test, expect } = require('./fixtures');
const { logOut, PASSWORD, keepScreenshot, expectAccessible } = require('./helpers');

async function logIn(page, email, password) {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('a technician logs in and sees the dashboard with the devices', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expectAccessible(page, 'login');
  await keepScreenshot(page, 'login');
  await logIn(page, 'tech@northwind.example', PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Taylor Reed');
  await expect(page.getByTestId('user-role')).toContainText('Technician');
  // Technicians are not offered the administration dialogs.
  await expect(page.getByRole('button', { name: 'User Accounts' })).toHaveCount(0);
  const rows = page.getByTestId('device-row');
  await expect(rows).toHaveCount(5);
  await expect(rows.first()).toContainText('ACCT-LAPTOP-07');
  await expect(rows.first().getByRole('button', { name: 'Take Control' })).toBeVisible();
  await expect(rows.first().getByRole('button', { name: 'Remote Background Management' })).toBeVisible();

  // The session survives a reload (HttpOnly cookie), and logging out ends it.
  await page.reload();
  await expect(page.getByTestId('user-name')).toHaveText('Taylor Reed');
  await logOut(page);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('a wrong password shows the error and does not log in', async ({ page }) => {
  await logIn(page, 'admin@northwind.example', 'not-my-password');
  await expect(page.getByRole('alert')).toHaveText('The email address or password is incorrect.');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('too many failures lock the login with a message that says until when', async ({ page }) => {
  await page.goto('/');
  for (let i = 0; i < 4; i++) {
    await page.getByLabel('Email').fill('lee@northwind.example');
    await page.getByLabel('Password').fill(`wrong-${i}`);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert')).toHaveText('The email address or password is incorrect.');
  }
  await page.getByLabel('Password').fill('wrong-again');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('Too many failed login attempts');
  await expect(page.getByRole('alert')).toContainText(/locked until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // Even the right password is refused while locked.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toContainText('locked until');
  await expect(page.getByTestId('user-name')).toHaveCount(0);
});

test('the app is served under the production security headers and a strict CSP', async ({ page }) => {
  const response = await page.goto('/');
  const headers = response.headers();
  const csp = headers['content-security-policy'] || '';
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toContain('unsafe-inline');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
  // And the app still starts under it (the fixture fails the test on any violation).
  await expect(page.getByLabel('Email')).toBeVisible();
});
