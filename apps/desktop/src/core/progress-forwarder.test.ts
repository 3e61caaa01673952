import { describe, expect, it } from 'vitest';
import { createProgressForwarder } from './progress-forwarder.js';

describe('progress forwarder', () => {
  it('throttles progress but always sends the final state', async () => {
    const sent: string[] = [];
    const forward = createProgressForwarder((_c, p) => sent.push(`${p.state}:${p.done}`), 50);
    for (let i = 0; i < 20; i++) forward({ state: 'running', done: i, failed: 0, total: 20 });
    forward({ state: 'done', done: 20, failed: 0, total: 20 });
    expect(sent[0]).toBe('running:0');
    expect(sent.at(-1)).toBe('done:20');
    expect(sent.length).toBeLessThan(5);
  });
});
