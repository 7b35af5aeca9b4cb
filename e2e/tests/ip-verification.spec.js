const { test, expect } = require('./fixtures');
const { totp, mailTo, logIn, PASSWORD } = require('./helpers');

// The seeded users with active 2FA share this demo authenticator key.
const DEMO_KEY = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
// The test gateway takes the simulated client address from this header (test runs only).
const FROM = (ip) => ({ extraHTTPHeaders: { 'X-Test-Client-IP': ip } });

async function latestLink(email) {
  await expect.poll(async () => (await mailTo(email)).filter((m) => /new location/.test(m.subject)).length).toBeGreaterThan(0);
  const mail = (await mailTo(email)).filter((m) => /new location/.test(m.subject)).pop();
  return mail.body.text.match(/https?:\/\/\S+verify-ip=[0-9a-f]{64}/)[0];
}

test('a login from a new address waits for the emailed link, then continues to the passcode', async ({ browser }) => {
  const context = await browser.newContext(FROM('198.51.100.23'));
  const page = await context.newPage();
  await logIn(page, 'kim@northwind.example', PASSWORD);
  await expect(page.getByRole('heading', { name: "Confirm it's you" })).toBeVisible();
  await expect(page.getByText('We emailed a link to kim@northwind.example')).toBeVisible();

  // The user opens the link from their mailbox, here in another tab.
  const link = await latestLink('kim@northwind.example');
  const mailbox = await context.newPage();
  await mailbox.goto(link);
  await expect(mailbox.getByRole('status')).toContainText('logins from 198.51.100.0/24 are now verified');
  await expect(mailbox).toHaveURL(/\/$/);

  // The waiting login continues by itself into the 2FA step.
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
  await page.getByLabel('Passcode').fill(totp(DEMO_KEY, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('user-name')).toHaveText('Kim Ortiz');
  await context.close();
});

test('an administrator pauses IP verification for a 2FA user, who then skips it from a new address', async ({ browser }) => {
  const office = await browser.newContext();
  const admin = await office.newPage();
  await logIn(admin, 'admin@northwind.example', PASSWORD);
  await admin.getByRole('button', { name: 'User Accounts' }).click();
  const row = admin.locator('tr[data-email="quinn@northwind.example"]');
  await row.click({ button: 'right' });
  await admin.getByRole('menu', { name: 'Actions for Quinn Walsh' }).getByRole('menuitem', { name: 'Pause IP verification' }).click();
  await admin.getByRole('alertdialog').getByRole('button', { name: 'Pause IP verification' }).click();
  await expect(row).toContainText('Paused');
  await office.close();

  const travelling = await browser.newContext(FROM('203.0.113.50'));
  const page = await travelling.newPage();
  await logIn(page, 'quinn@northwind.example', PASSWORD);
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
  await page.getByLabel('Passcode').fill(totp(DEMO_KEY, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('user-name')).toHaveText('Quinn Walsh');
  await travelling.close();
});
