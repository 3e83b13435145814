import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuSeconds, parseStat } from './cpu.js';

describe('proxy CPU accounting from /proc', () => {
  it('reads ppid and utime + stime even when the command name holds spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = '4242 (nginx: (worker) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0';
    assert.deepEqual(parseStat(line), { ppid: 17, ticks: 325 });
  });

  it('counts the CPU this very process has used', () => {
    const start = Date.now();
    while (Date.now() - start < 50) {
      // Spin so there is CPU time to see.
    }
    assert.ok(cpuSeconds(process.pid) > 0);
  });
});
