// A Monedero process for tests that run real child processes (scale-out): the real src/main.ts
// bootstrap, loaded through ts-register.js, in the role MONEDERO_ROLE says (api, worker, all).
require('./ts-register');
require('../../src/main.ts')
  .bootstrap()
  .catch((error) => {
    console.error('monedero child failed to start:', error);
    process.exit(1);
  });
