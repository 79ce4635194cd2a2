// Heights of admin pages in headless Chromium at 1440x900: logs in, opens each path, prints
// {"<path>": <document scrollHeight in px>, ...} as one JSON line. Used by bench/admin_pages.py --heights.
// Usage: node bench/page_heights.js <base_url> <username> <password> <path>...
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password, ...paths] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const out = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(base + '/admin/login/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    for (const p of paths) {
      await page.goto(base + p);
      out[p] = await page.evaluate(() => document.documentElement.scrollHeight);
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})();
