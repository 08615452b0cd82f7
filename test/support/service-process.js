// A Monedero process for tests that run real child processes (scale-out): the real bootstrap of
// src/main.ts (compiled, or through ts-register.js; see load-service.js), in the role
// MONEDERO_ROLE says (api, worker, all).
require('./load-service')('main')
  .bootstrap()
  .catch((error) => {
    console.error('monedero child failed to start:', error);
    process.exit(1);
  });
