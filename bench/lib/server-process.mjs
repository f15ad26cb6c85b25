/**
 * Runs a server under test as a child process and waits for the stdout line
 * that carries its base URL.
 */
import { spawn } from 'node:child_process';

const URL_PATTERN = /https?:\/\/[^\s)]+/;
const OUTPUT_LIMIT = 64 * 1024;

export function startServerProcess({ args, cwd, readyTimeoutMs = 30_000 }) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

  const ready = new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not print its URL within ${readyTimeoutMs} ms\n${output}`));
    }, readyTimeoutMs);
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      stdout += chunk.toString();
      const match = URL_PATTERN.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.stderr.on('data', keep);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before printing its URL\n${output.trim()}`));
    });
  });

  return ready.then((url) => ({
    url,
    pid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  }));
}
