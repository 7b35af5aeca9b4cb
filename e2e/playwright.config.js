// Browser tests drive Debian's Chromium (no browser is downloaded) against the local stack that
// scripts/test starts; BASE_URL and SES_URL come from it.
const { defineConfig } = require('@playwright/test');

if (!process.env.BASE_URL) {
  throw new Error('BASE_URL is not set: run the browser tests through ./scripts/test');
}

module.exports = defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.BASE_URL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
});
