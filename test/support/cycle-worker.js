// A worker process for the crash test: the real src/worker.ts, loaded through ts-register.js.
require('./ts-register');
require('../../src/worker.ts');
