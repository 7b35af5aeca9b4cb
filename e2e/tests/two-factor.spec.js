const { test, expect } = require('./fixtures');
const { totp, mailTo, latestEmailCode, logIn, logOut, PASSWORD, keepScreenshot, expectAccessible } = require('./helpers');

const DANA = 'dana@northwind.example'; // seeded with a grey tick: 2FA enabled, not activated

test('a grey-tick user activates 2FA at login, then logs in with passcodes and recovery codes', async ({ page }) => {
  let key;
  let recoveryCodes;
  let usedPasscode;

  await test.step('the password step leads into activation, which validates the email first', async () => {
    await logIn(page, DANA, PASSWORD);
    await expect(page.getByRole('heading', { name: 'Turn on two-factor authentication' })).toBeVisible();
    await expect(page.getByRole('note')).toContainText('must be an address you can read');
    await expect(page.getByRole('note')).toContainText('a colleague with access to User Accounts');
    await expect(page.getByText('our customer support team will be able to help you out too')).toBeVisible();
    await expect(page.getByText('Logging in as')).toBeVisible();
    await expectAccessible(page, 'activation: email');
    await keepScreenshot(page, 'activation-1-email');
    const code = await latestEmailCode(DANA);
    await page.getByLabel('Code from the email').fill(code);
    await page.getByRole('button', { name: 'Verify email' }).click();
  });

  await test.step('the authenticator is set up from the QR code or the grouped key', async () => {
    await expect(page.getByRole('heading', { name: /Set up your authenticator app/ })).toBeVisible();
    await expect(page.getByRole('img', { name: 'QR code for your authenticator app' }).locator('svg')).toBeVisible();
    await expect(page.getByText('freely available in the app stores for iOS, Android, Windows Phone and any other mobile OS')).toBeVisible();
    await expectAccessible(page, 'activation: authenticator');
    await keepScreenshot(page, 'activation-2-authenticator');
    key = await page.getByTestId('manual-key').innerText();
    expect(key).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    await page.getByLabel('6-digit code from the app').fill(totp(key));
    await page.getByRole('button', { name: 'Activate' }).click();
  });

  await test.step('recovery codes are shown once, with copy and download, then the dashboard', async () => {
    await expect(page.getByRole('heading', { name: 'Two-factor authentication is active' })).toBeVisible();
    recoveryCodes = await page.getByTestId('recovery-codes').locator('code').allInnerTexts();
    expect(recoveryCodes).toHaveLength(10);
    await expectAccessible(page, 'activation: recovery codes');
    await keepScreenshot(page, 'activation-3-recovery-codes');
    await expect(page.getByRole('link', { name: 'Download codes' })).toHaveAttribute('download', 'recovery-codes.txt');
    await expect(page.getByRole('button', { name: 'Continue to the dashboard' })).toBeDisabled();
    await page.getByLabel('I have saved my recovery codes').check();
    await page.getByRole('button', { name: 'Continue to the dashboard' }).click();
    await expect(page.getByTestId('user-name')).toHaveText('Dana Kim');
    await expect(page.getByText('Two-factor authentication is active on your login.')).toBeVisible();
    await expect(page.getByTestId('device-row')).toHaveCount(5);
    await expectAccessible(page, 'dashboard');
    await keepScreenshot(page, 'dashboard');
    const mail = await mailTo(DANA);
    expect(mail.some((m) => /now active/.test(m.subject))).toBe(true);
  });

  await test.step('logging in again asks for a fresh passcode', async () => {
    await logOut(page);
    await logIn(page, DANA, PASSWORD);
    await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
    await expectAccessible(page, 'passcode');
    await keepScreenshot(page, 'passcode');
    // The activation used this step's code; the next step's code is newer.
    usedPasscode = totp(key, 1);
    await page.getByLabel('Passcode').fill(usedPasscode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByTestId('user-name')).toHaveText('Dana Kim');
  });

  await test.step('a replayed passcode is refused', async () => {
    await logOut(page);
    await logIn(page, DANA, PASSWORD);
    await page.getByLabel('Passcode').fill(usedPasscode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert')).toContainText('already used');
    await expect(page.getByTestId('user-name')).toHaveCount(0);
  });

  await test.step('a recovery code logs in once and says how many remain', async () => {
    await page.getByLabel('Passcode').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByTestId('user-name')).toHaveText('Dana Kim');
    await expect(page.getByRole('status')).toContainText('You have 9 recovery codes left');
    await logOut(page);
    await logIn(page, DANA, PASSWORD);
    await page.getByLabel('Passcode').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect(page.getByRole('alert')).toContainText('already used');
    await expect(page.getByTestId('user-name')).toHaveCount(0);
  });
});
