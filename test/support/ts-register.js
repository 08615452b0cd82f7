/**
 * Minimal TypeScript loader for child processes started by tests (the crash test's worker):
 * transpiles each .ts file with the project's compiler (no type check), cached on disk by
 * path + mtime + size, so a worker starts in seconds without `npm run build`.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const ts = require('typescript');

const cacheDir = path.join(os.tmpdir(), 'monedero-ts-cache');
fs.mkdirSync(cacheDir, { recursive: true });
const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  allowSyntheticDefaultImports: true,
  resolveJsonModule: true,
  inlineSourceMap: true,
};

require.extensions['.ts'] = function (module, filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}:${stat.mtimeMs}:${stat.size}:${ts.version}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename }).outputText;
    fs.writeFileSync(cached, code);
  }
  module._compile(code, filename);
};
