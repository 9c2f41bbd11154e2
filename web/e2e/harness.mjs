// What every end-to-end test shares: a fresh demo store served by a real `pointsmall serve` on a
// free loopback port (with the built front end), Debian's Chromium driven by playwright-core, TOTP
// codes for the demo operator, screenshots under web/test-results/, and a watch on the page's
// console so a missing translation key or a page error fails the test.
//
// Environment: POINTSMALL_BIN (default ../build/pointsmall), POINTSMALL_CHROMIUM (default
// /usr/bin/chromium).
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = path.join(webDir, 'test-results');
const binary = process.env.POINTSMALL_BIN ?? path.resolve(webDir, '../build/pointsmall');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Seeds a fresh demo store (`pointsmall demo`) and serves it with the built front end (web/dist).
// Returns { url, demo, dataDir, stop }; `demo` is DATA_DIR/demo.json as the demo wrote it.
export async function startDemoServer() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pointsmall-e2e-'));
  execFileSync(binary, ['demo', '--data-dir', dataDir, '--quiet'], { stdio: 'inherit' });
  const demo = JSON.parse(readFileSync(path.join(dataDir, 'demo.json'), 'utf8'));
  const portFile = path.join(dataDir, 'port');
  const server = spawn(
    binary,
    [
      'serve',
      '--config', path.join(dataDir, 'pointsmall.toml'),
      '--data-dir', dataDir,
      '--listen', '127.0.0.1:0',
      '--port-file', portFile,
      '--web-dir', path.join(webDir, 'dist'),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let exited = false;
  server.on('exit', () => (exited = true));
  const deadline = Date.now() + 30_000;
  let url = null;
  while (Date.now() < deadline && !exited) {
    if (existsSync(portFile)) {
      const port = readFileSync(portFile, 'utf8').trim();
      if (port) {
        url = `http://127.0.0.1:${port}`;
        try {
          if ((await fetch(`${url}/healthz`)).ok) break;
        } catch {
          // not listening yet
        }
      }
    }
    await sleep(100);
  }
  if (exited || !url) throw new Error('pointsmall serve did not start');
  return {
    url,
    demo,
    dataDir,
    async stop() {
      if (!exited) {
        server.kill('SIGTERM');
        for (let i = 0; i < 100 && !exited; i++) await sleep(100);
        if (!exited) server.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A test file's demo server and browser, started when the file loads and stopped after its last
// test: `const { server, browser } = await demoServerAndBrowser();`
export async function demoServerAndBrowser() {
  const server = await startDemoServer();
  let browser;
  try {
    browser = await launchBrowser();
  } catch (failure) {
    await server.stop();
    throw failure;
  }
  after(async () => {
    await browser.close();
    await server.stop();
  });
  return { server, browser };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.POINTSMALL_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// A page that records what would be a defect: uncaught errors, console errors (missing i18n keys
// among them) and failed API calls with a 5xx. `problems()` lists them; tests assert it is empty.
export async function watchedPage(context) {
  const page = await context.newPage();
  const found = [];
  page.on('pageerror', (error) => found.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') found.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) found.push(`${response.status()} ${response.url()}`);
  });
  page.problems = () => found.slice();
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  await page.screenshot({ path: path.join(resultsDir, `${name}.png`), fullPage: true });
}

// RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 secret. The server accepts each code once,
// so a test signing in twice waits for the next step (`nextTotp`).
export function totp(secret, atMs = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) continue;
    bits += value.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const digest = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0xf;
  const code = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

let lastStep = -1;
// A code of a step not used before by this process.
export async function nextTotp(secret) {
  let step = Math.floor(Date.now() / 30_000);
  if (step <= lastStep) {
    await sleep((lastStep + 1) * 30_000 - Date.now() + 200);
    step = lastStep + 1;
  }
  lastStep = step;
  return totp(secret, step * 30_000 + 1000);
}

// The horizontal overflow of the page in CSS pixels (0 when nothing scrolls sideways).
export async function horizontalOverflow(page) {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}
