import { expect, test } from './fixtures';

test('the built page forbids eval and requires Trusted Types; its own workers still start', async ({ page }) => {
  await page.goto('/');
  const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  // 'wasm-unsafe-eval' stays (zip.js' WebAssembly inflater, for deflate64 entries); 'unsafe-eval' goes.
  expect(policy).not.toMatch(/(^|[^-])'unsafe-eval'/);
  expect(policy).toContain("require-trusted-types-for 'script'");
  expect(policy).toContain('trusted-types default');
  await expect(page.getByTestId('status')).toHaveText('idle');

  // Proven, not only declared: markup from a string and a foreign script URL are refused (the default policy throws).
  // Eval is not tried here: code Playwright evaluates is exempt from the page's policy.
  const outcome = await page.evaluate(() => {
    const tried = (attempt: () => void) => {
      try {
        attempt();
        return 'ran';
      } catch {
        return 'refused';
      }
    };
    return {
      html: tried(() => {
        document.createElement('div').innerHTML = '<img src=x onerror=alert(1)>';
      }),
      foreignWorker: tried(() => new Worker('https://example.com/x.js')),
    };
  });
  expect(outcome).toEqual({ html: 'refused', foreignWorker: 'refused' });
});
