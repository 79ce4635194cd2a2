// Logs into the admin site in headless Chromium, opens the recordings player, plays the first recording
// and reports whether its video time advances. Usage: node play_recording.js <base_url> <username> <password>
const { chromium } = require('playwright-core');

(async () => {
  const [base, username, password] = process.argv.slice(2);
  const fs = require('fs'), os = require('os'), path = require('path');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lprnvr-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const result = { ok: false };
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + '/admin/login/?next=/admin/recordings/recording/player/');
    await page.fill('#id_username', username);
    await page.fill('#id_password', password);
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
    await page.waitForSelector('#recordings tbody tr a', { timeout: 20000 });
    result.rows = await page.$$eval('#recordings tbody tr', (rows) => rows.length);
    await page.click('#recordings tbody tr a');
    await page.waitForFunction(() => document.getElementById('player').currentTime > 1, null, { timeout: 20000 });
    result.duration = await page.evaluate(() => document.getElementById('player').duration);
    result.ok = true;
  } catch (err) {
    result.error = String(err);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
})();
