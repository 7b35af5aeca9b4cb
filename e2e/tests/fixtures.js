// Every journey runs under the production CSP (the local gateway sends the template's headers):
// any violation the browser reports fails the test, in every page of every browser context.
const base = require('@playwright/test');

const test = base.test.extend({
  cspGuard: [async ({ browser, context }, use) => {
    const violations = [];
    const watch = (page) => page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(`${page.url()}: ${msg.text()}`);
    });
    const guard = (ctx) => { ctx.pages().forEach(watch); ctx.on('page', watch); return ctx; };
    guard(context);
    const newContext = browser.newContext.bind(browser);
    browser.newContext = async (...args) => guard(await newContext(...args));
    try {
      await use();
    } finally {
      browser.newContext = newContext;
    }
    base.expect(violations, 'CSP violations').toEqual([]);
  }, { auto: true }],
});

module.exports = { test, expect: base.expect };
