// What administrators do with their users and settings, each from start to end in the browser:
// account-wide 2FA and the login it forces, the Info counts, the IP verification column, Pause and
// Resume, Reset 2FA, the enforcement date, disabling 2FA for someone stuck in activation, and a
// user setting up 2FA from the dashboard.
const { test, expect } = require('./fixtures');
const {
  mailTo, logIn, logOut, ageEmailCode, PASSWORD, keepScreenshot, expectAccessible,
  userRow, openUserAccounts, closeDialog, chooseAndConfirm, subjectsTo, activate, changeSettings,
} = require('./helpers');

const ADMIN = 'admin@northwind.example';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// The ticks the grid shows, counted by state.
async function gridCounts(dialog) {
  const count = (name) => dialog.getByTestId('two-factor').getByRole('img', { name, exact: true }).count();
  return {
    active: await count('2FA active'),
    grey: await count('2FA enabled, not yet activated'),
    off: await count('2FA off'),
    rows: await dialog.getByTestId('user-row').count(),
  };
}

function infoText({ active, grey, off }) {
  return `2FA active: ${active} · Enabled, not yet activated: ${grey} · Off: ${off}`;
}

// `28 Dec 2026` for a Date, in UTC, as the dashboard writes dates.
function dayText(date) {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

function dayInput(date) {
  return date.toISOString().slice(0, 10);
}

test('account-wide 2FA: the Info section says so, and a login without 2FA goes through activation', async ({ page, browser }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await logIn(page, ADMIN, PASSWORD);
  await expect(page.getByTestId('user-name')).toHaveText('Alex Morgan');

  let before;
  // Whether account-wide 2FA is on: put back off whatever happens, so later journeys find the
  // demo account as seeded.
  let wideOn = false;
  try {
    await test.step('the Info counts are the ticks of the grid', async () => {
      const dialog = await openUserAccounts(page);
      before = await gridCounts(dialog);
      expect(before.active + before.grey + before.off).toBe(before.rows);
      await expect(dialog.getByTestId('info')).toContainText(infoText(before));
      await expect(dialog.getByTestId('info')).toContainText('set per user');
      await dialog.getByTestId('info').scrollIntoViewIfNeeded();
      await keepScreenshot(page, 'user-accounts-info');
      await closeDialog(page);
    });

    await test.step('switched on, account-wide 2FA gives every user without it a grey tick', async () => {
      await changeSettings(page, (settings) =>
        settings.getByLabel('Two-factor authentication for every user (account-wide)').check());
      wideOn = true;
      const dialog = await openUserAccounts(page);
      await expect(dialog.getByTestId('info')).toContainText('on for the whole account');
      await expect(userRow(page, 'avery@northwind.example').getByRole('img', { name: '2FA enabled, not yet activated' })).toBeVisible();
      await expect(dialog.getByTestId('two-factor').getByRole('img', { name: '2FA off', exact: true })).toHaveCount(0);
      await expect(dialog.getByTestId('info')).toContainText(infoText({ active: before.active, grey: before.grey + before.off, off: 0 }));
      await expectAccessible(page, 'User Accounts with account-wide 2FA');
      await closeDialog(page);
    });

    await test.step('a user who never set up 2FA is taken through activation at login', async () => {
      const other = await browser.newContext();
      const avery = await other.newPage();
      await logIn(avery, 'avery@northwind.example', PASSWORD);
      await activate(avery, 'avery@northwind.example', 'Avery Fox');
      await other.close();
    });

    await test.step('switched off again, the counts show the new activation', async () => {
      await changeSettings(page, (settings) =>
        settings.getByLabel('Two-factor authentication for every user (account-wide)').uncheck());
      wideOn = false;
      const dialog = await openUserAccounts(page);
      await expect(userRow(page, 'avery@northwind.example').getByRole('img', { name: '2FA active' })).toBeVisible();
      await expect(dialog.getByTestId('info')).toContainText('set per user');
      await expect(dialog.getByTestId('info')).toContainText(infoText({ ...before, active: before.active + 1, off: before.off - 1 }));
    });
  } finally {
    if (wideOn) {
      await changeSettings(page, (settings) =>
        settings.getByLabel('Two-factor authentication for every user (account-wide)').uncheck());
    }
  }
});

test('IP verification: the column follows the account setting; Pause, Resume, then Reset 2FA', async ({ page, browser }) => {
  const DREW = 'drew@northwind.example';
  await logIn(page, ADMIN, PASSWORD);
  let dialog = await openUserAccounts(page);
  const column = userRow(page, DREW).getByTestId('ip-verification');
  await expect(column).toHaveText('On');

  await test.step('Pause asks first, Resume does not; both are told by email', async () => {
    await chooseAndConfirm(page, DREW, 'Pause IP verification', 'Drew Hale');
    await expect(column).toHaveText('Paused');
    await expect.poll(() => subjectsTo(DREW)).toContain('IP address verification was paused');

    await userRow(page, DREW).click({ button: 'right' });
    await page.getByRole('menu').getByRole('menuitem', { name: 'Resume IP verification' }).click();
    await expect(column).toHaveText('On');
    await expect.poll(() => subjectsTo(DREW)).toContain('IP address verification was resumed');
    await closeDialog(page);
  });

  await test.step('with IP verification off for the account, the column and the Info section say so', async () => {
    try {
      await changeSettings(page, (settings) => settings.getByLabel('IP address verification').uncheck());
      dialog = await openUserAccounts(page);
      await expect(column).toHaveText('Off (account)');
      await expect(dialog.getByTestId('info')).toContainText('IP address verification is off for the whole account');
    } finally {
      await changeSettings(page, (settings) => settings.getByLabel('IP address verification').check());
    }
    dialog = await openUserAccounts(page);
    await expect(column).toHaveText('On');
    await expect(dialog.getByTestId('info')).toContainText('IP address verification is on for the account');
  });

  await test.step('Reset 2FA: a grey tick, an email, and activation again at the next login', async () => {
    await chooseAndConfirm(page, DREW, 'Reset 2FA', 'Drew Hale');
    await expect(userRow(page, DREW).getByRole('img', { name: '2FA enabled, not yet activated' })).toBeVisible();
    await expect.poll(() => subjectsTo(DREW)).toContain('Two-factor authentication was reset');

    const other = await browser.newContext();
    const drew = await other.newPage();
    await logIn(drew, DREW, PASSWORD);
    await activate(drew, DREW, 'Drew Hale');
    await other.close();
    await closeDialog(page);
    dialog = await openUserAccounts(page);
    await expect(userRow(page, DREW).getByRole('img', { name: '2FA active' })).toBeVisible();
  });
});

test('the enforcement date set in General Settings reaches the dashboard and the prompt', async ({ page, browser }) => {
  const TECH = 'tech@northwind.example';
  const DAY = 86_400_000;
  const today = new Date();
  await logIn(page, ADMIN, PASSWORD);
  await page.getByRole('button', { name: 'General Settings' }).click();
  const seeded = await page.getByLabel(/from \(00:00 UTC on that day\)/).inputValue();
  await closeDialog(page);
  const setDate = (value) => changeSettings(page, (settings) =>
    settings.getByLabel(/from \(00:00 UTC on that day\)/).fill(value));

  const other = await browser.newContext();
  const tech = await other.newPage();
  const startTakeControl = () => tech.getByTestId('device-row').first().getByRole('button', { name: 'Take Control' }).click();
  const prompt = tech.getByRole('dialog', { name: 'Enable Two-Factor Authentication' });

  try {
    await test.step('required from tomorrow: Activate Later until the end of today (UTC)', async () => {
      const tomorrow = new Date(today.getTime() + DAY);
      await setDate(dayInput(tomorrow));
      await logIn(tech, TECH, PASSWORD);
      await expect(tech.getByTestId('two-factor-advice'))
        .toHaveText(`Protect your login with two-factor authentication: it is required for Take Control and Remote Background Management from ${dayText(tomorrow)} (00:00 UTC).`);
      await startTakeControl();
      await expect(prompt).toContainText(`You can choose Activate Later until the end of ${dayText(today)} (UTC).`);
      await expect(prompt.getByRole('button', { name: 'Activate Later' })).toBeVisible();
      await prompt.getByRole('button', { name: 'Cancel' }).click();
      await logOut(tech);
    });

    await test.step('required since yesterday: the dashboard says so and the prompt has no Activate Later', async () => {
      await setDate(dayInput(new Date(today.getTime() - DAY)));
      await logIn(tech, TECH, PASSWORD);
      await expect(tech.getByTestId('two-factor-advice')).toContainText('Two-factor authentication is now required for Take Control and Remote Background Management.');
      await startTakeControl();
      await expect(prompt).toContainText('is now required to use Take Control and Remote Background Management');
      await expect(prompt.getByRole('button', { name: 'Activate Later' })).toHaveCount(0);
      await expect(prompt.getByRole('button', { name: 'Activate Now' })).toBeFocused();
      await tech.keyboard.press('Escape');
      await expect(prompt).toHaveCount(0);
      await logOut(tech);
    });

  } finally {
    await other.close();
    // Back to the seeded date, so the demo account is as it was.
    await setDate(seeded);
  }
});

test('a colleague disables 2FA for a user stuck in activation, who then logs in with the password', async ({ page, browser }) => {
  const CASEY = 'casey@northwind.example';
  const other = await browser.newContext();
  const casey = await other.newPage();
  await logIn(casey, CASEY, PASSWORD);
  // Casey cannot read the email the activation sends, and gives up for now.
  await expect(casey.getByRole('heading', { name: 'Turn on two-factor authentication' })).toBeVisible();
  await expect(casey.getByText('our customer support team will be able to help you out too')).toBeVisible();
  await logOut(casey, 'Cancel and log out');

  await logIn(page, ADMIN, PASSWORD);
  await openUserAccounts(page);
  await chooseAndConfirm(page, CASEY, 'Disable 2FA', 'Casey Brooks');
  await expect(userRow(page, CASEY).getByRole('img', { name: '2FA off' })).toBeVisible();
  await expect.poll(() => subjectsTo(CASEY)).toContain('Two-factor authentication was disabled');

  await logIn(casey, CASEY, PASSWORD);
  await expect(casey.getByTestId('user-name')).toHaveText('Casey Brooks');
  await other.close();
});

test('a user sets up 2FA from the dashboard and is not prompted again', async ({ page }) => {
  const MORGAN = 'morgan@northwind.example';
  await logIn(page, MORGAN, PASSWORD);
  await expect(page.getByTestId('two-factor-advice'))
    .toHaveText(/required for Take Control and Remote Background Management from \d{1,2} [A-Z][a-z]{2} \d{4} \(00:00 UTC\)\.$/);
  await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  await expect(page.getByText(`Signed in as ${MORGAN}`)).toBeVisible();
  await expect(page.getByRole('status')).toHaveText(`We sent a 6-digit code to ${MORGAN}.`);

  // A minute later the first email has not come: a double click on "Send a new code" sends one.
  const codeEmails = async () => (await mailTo(MORGAN)).filter((m) => /verification code/.test(m.subject)).length;
  const sent = await codeEmails();
  ageEmailCode(MORGAN);
  await page.getByRole('button', { name: 'Send a new code' }).dblclick();
  await expect(page.getByRole('status')).toHaveText(`We sent a new code to ${MORGAN}.`);
  await expect.poll(codeEmails).toBe(sent + 1);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await activate(page, MORGAN, 'Morgan Blake');
  // Only the newest code was valid, and it was used: exactly one email was sent for the double click.
  expect(await codeEmails()).toBe(sent + 1);
  await expect(page.getByText('Two-factor authentication is active on your login.')).toBeVisible();
  await page.getByTestId('device-row').first().getByRole('button', { name: 'Take Control' }).click();
  await expect(page.getByTestId('session-kind')).toHaveText('Take Control');
  await expect(page.getByRole('dialog')).toHaveCount(0);
});
