// Helpers shared by the browser journeys: the local SES store and an authenticator app.
const crypto = require('crypto');
const { expect } = require('@playwright/test');

function base32Decode(key) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of key.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), `offset` steps from now: what the phone would show.
function totp(base32Key, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hash = crypto.createHmac('sha1', base32Decode(base32Key)).update(counter).digest();
  const o = hash[19] & 0x0f;
  const bin = ((hash[o] & 0x7f) << 24) | (hash[o + 1] << 16) | (hash[o + 2] << 8) | hash[o + 3];
  return String(bin % 1_000_000).padStart(6, '0');
}

// Every message the local SES endpoint holds for `to`, oldest first.
async function mailTo(to) {
  const res = await fetch(`${process.env.SES_URL}/store`);
  const store = await res.json();
  return store.emails.filter((m) => JSON.stringify(m.destination).includes(to));
}

// The 6-digit code in the newest verification email to `to` (waits for it to arrive).
async function latestEmailCode(to) {
  for (let i = 0; i < 50; i++) {
    const codes = (await mailTo(to)).filter((m) => /verification code/.test(m.subject));
    if (codes.length) return codes[codes.length - 1].subject.match(/(\d{6})$/)[1];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no verification email for ${to}`);
}

async function logIn(page, email, password) {
  await page.goto('/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

// Clicks `button` (by default the dashboard's "Log out") and waits until the login screen is back,
// so that the next navigation cannot cut off the logout call and keep the old session.
async function logOut(page, button = 'Log out') {
  await page.getByRole('button', { name: button }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
}

module.exports = { totp, mailTo, latestEmailCode, logIn, logOut, PASSWORD: 'Demo-Passw0rd!' };

// Runs a devkit command against the local table and answers what it printed.
function devkit(...args) {
  const { execFileSync } = require('child_process');
  const path = require('path');
  const target = process.env.CARGO_TARGET_DIR || path.join(__dirname, '..', '..', 'target');
  return execFileSync(path.join(target, 'debug', 'devkit'), args, { env: process.env }).toString();
}

// The audit events about `email` (newest first), read through devkit from the local table.
function auditOf(email) {
  return devkit('audit', email).split('\n').filter(Boolean).map((line) => {
    const [action, detail] = line.split('\t');
    return { action, detail };
  });
}

// Makes the sessions of `email` look as if they last proved who they are long ago, so the next
// action that lowers security asks for a step-up.
function ageSessions(email) {
  devkit('age-sessions', email);
}

// Makes the last activation email to `email` look a minute old, past the resend cool-down.
function ageEmailCode(email) {
  expect(devkit('age-email-code', email).trim()).toBe('code aged');
}

module.exports.auditOf = auditOf;
module.exports.ageSessions = ageSessions;
module.exports.ageEmailCode = ageEmailCode;

// Keeps a screenshot of the current screen under e2e/artifacts/screenshots/<name>.png.
async function keepScreenshot(page, name) {
  const path = require('path');
  await page.screenshot({ path: path.join(__dirname, '..', 'artifacts', 'screenshots', `${name}.png`) });
}

// Runs axe-core on the current screen: no serious or critical violation.
async function expectAccessible(page, screen) {
  const AxeBuilder = require('@axe-core/playwright').default;
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `accessibility of ${screen}`).toEqual([]);
}

module.exports.keepScreenshot = keepScreenshot;
module.exports.expectAccessible = expectAccessible;

// Tabs forward, then backward, past every focusable element of `selector` and two more, so focus
// has to wrap both ways: it never leaves `selector`.
async function expectTabStaysInside(page, selector) {
  const focusable = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), a[href], [tabindex="0"]';
  const count = await page.locator(selector).locator(focusable).count();
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < count + 2; i++) {
      await page.keyboard.press(key);
      const inside = await page.evaluate((s) => document.activeElement?.closest(s) != null, selector);
      expect(inside, `focus inside ${selector} after ${key} ${i + 1} of ${count + 2}`).toBe(true);
    }
  }
}

// Opens General Settings, lets `change` edit the form, saves it and closes the dialog. From a
// fresh dashboard, so it also puts settings back after a journey failed halfway: the page must
// be signed in already (a login still in flight would be cut off by the navigation).
async function changeSettings(page, change) {
  await page.goto('/');
  await page.getByRole('button', { name: 'General Settings' }).click();
  const settings = page.getByRole('dialog', { name: 'General Settings' });
  await expect(settings.getByRole('button', { name: 'Save settings' })).toBeVisible();
  await change(settings);
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings.getByRole('status')).toHaveText('Settings saved.');
  await closeDialog(page);
}

module.exports.changeSettings = changeSettings;
module.exports.expectTabStaysInside = expectTabStaysInside;

// User Accounts: a user's row, opening and closing the dialog, and an action that asks first.
function userRow(page, email) {
  return page.locator(`tr[data-email="${email}"]`);
}

async function openUserAccounts(page) {
  await page.getByRole('button', { name: 'User Accounts' }).click();
  const dialog = page.getByRole('dialog', { name: 'User Accounts' });
  await expect(dialog.getByTestId('user-row').first()).toBeVisible();
  return dialog;
}

async function closeDialog(page) {
  await page.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

// Right-clicks the row of `email`, chooses `action` and confirms it for `name`.
async function chooseAndConfirm(page, email, action, name) {
  await userRow(page, email).click({ button: 'right' });
  await page.getByRole('menu').getByRole('menuitem', { name: action }).click();
  const confirm = page.getByRole('alertdialog', { name: `${action} for ${name}?` });
  await confirm.getByRole('button', { name: action }).click();
  await expect(confirm).toHaveCount(0);
}

// The subjects of every email to `email`, for polling until one arrives.
async function subjectsTo(email) {
  return (await mailTo(email)).map((m) => m.subject).join('|');
}

// Runs the activation flow from its email step to the dashboard, where `name` is signed in.
async function activate(page, email, name) {
  await expect(page.getByRole('heading', { name: 'Turn on two-factor authentication' })).toBeVisible();
  await page.getByLabel('Code from the email').fill(await latestEmailCode(email));
  await page.getByRole('button', { name: 'Verify email' }).click();
  const key = await page.getByTestId('manual-key').innerText();
  await page.getByLabel('6-digit code from the app').fill(totp(key));
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByLabel('I have saved my recovery codes').check();
  await page.getByRole('button', { name: 'Continue to the dashboard' }).click();
  await expect(page.getByTestId('user-name')).toHaveText(name);
}

Object.assign(module.exports, { userRow, openUserAccounts, closeDialog, chooseAndConfirm, subjectsTo, activate });
