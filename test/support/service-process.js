// A Monedero process for tests that run real child processes (scale-out, crash tests): the real
// bootstrap of src/main.ts (compiled, or through ts-register.js; see load-service.js), in the role
// MONEDERO_ROLE says (api, worker, all). Once started it tells its parent, over the IPC channel
// that startServiceProcess() opens, the port it really listens on.
require('./load-service')('main')
  .bootstrap()
  // With a callback, a parent gone meanwhile is not an unhandled 'error' that kills the child.
  .then((port) => process.connected && process.send({ started: true, port }, () => undefined))
  .catch((error) => {
    console.error('monedero child failed to start:', error);
    process.exit(1);
  });
