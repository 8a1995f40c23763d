import { describe, expect, it } from 'vitest';
import { scriptUrlProblem } from './trustedTypes';

describe('the Trusted Types policy for script URLs', () => {
  const origin = 'https://app.example';
  it('lets the page’s own scripts through, absolute or relative', () => {
    expect(scriptUrlProblem('https://app.example/assets/train.worker-abc.js', origin)).toBeNull();
    expect(scriptUrlProblem('/sw.js', origin)).toBeNull();
  });
  it('refuses other origins and URLs that are scripts in disguise', () => {
    expect(scriptUrlProblem('https://evil.example/x.js', origin)).toMatch(/not this page's origin/);
    expect(scriptUrlProblem('data:text/javascript,alert(1)', origin)).toMatch(
      /a data: URL is not one of the page's files/,
    );
    expect(scriptUrlProblem('blob:https://app.example/1234', origin)).toMatch(/a blob: URL/);
    expect(scriptUrlProblem('javascript:alert(1)', origin)).toMatch(/a javascript: URL/);
  });
});
