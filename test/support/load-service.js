/**
 * Loads the service's code for a child process started by a test: the compiled `dist/` when it
 * is at least as new as every source file (scripts/test.sh builds it just before the suite, so
 * CI always uses it and four children start in about a second), otherwise the TypeScript
 * sources through ts-register.js (a single test run right after an edit).
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function compiledIsFresh(entry) {
  const compiled = path.join(root, 'dist', 'src', `${entry}.js`);
  if (!fs.existsSync(compiled)) return false;
  const builtAt = fs.statSync(compiled).mtimeMs;
  return builtAt >= newestMtime(path.join(root, 'src')) && builtAt >= newestMtime(path.join(root, 'migrations'));
}

/** `entry` is a module of src/ without extension: 'main' or 'worker'. */
module.exports = function loadService(entry) {
  if (compiledIsFresh(entry)) return require(path.join(root, 'dist', 'src', `${entry}.js`));
  require('./ts-register');
  return require(path.join(root, 'src', `${entry}.ts`));
};
