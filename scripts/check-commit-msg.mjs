#!/usr/bin/env node
// Commit messages: a subject of at most 72 characters, then a blank line before any body (docs/architecture.md).
// `check-commit-msg.mjs <message file>` (as a commit-msg hook) or `check-commit-msg.mjs --range <a>..<b>`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_SUBJECT = 72;

/** What is wrong with a message, or [] when it is fine. */
export function messageProblems(message) {
  const lines = message.split('\n').filter((line) => !line.startsWith('#'));
  const subject = lines[0] ?? '';
  const problems = [];
  if (subject.trim() === '') problems.push('the subject is empty');
  if (subject.length > MAX_SUBJECT)
    problems.push(`the subject is ${subject.length} characters (at most ${MAX_SUBJECT})`);
  if (lines.length > 1 && lines[1].trim() !== '') problems.push('the subject needs a blank line after it');
  return problems;
}

const [flag, value] = process.argv.slice(2);
const messages =
  flag === '--range'
    ? execFileSync('git', ['log', '--format=%H%x00%B%x01', value], { encoding: 'utf8' })
        .split('\x01')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => entry.split('\x00'))
    : [[flag ?? '', readFileSync(flag, 'utf8')]];
let failed = false;
for (const [name, message] of messages) {
  for (const problem of messageProblems(message)) {
    failed = true;
    console.error(`${name.slice(0, 12)}: ${problem}: ${message.split('\n')[0].slice(0, 80)}`);
  }
}
process.exit(failed ? 1 : 0);
