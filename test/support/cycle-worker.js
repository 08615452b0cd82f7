// A worker process for the crash tests: the real src/worker.ts (compiled, or through
// ts-register.js; see load-service.js).
require('./load-service')('worker');
