// Stands in for Electron's utility process in plain Node (tests, benchmarks): the module named
// by argv[2] gets the `process.parentPort` Electron gives it, carried over Node's IPC channel.
process.parentPort = {
  on(event, listener) {
    if (event === 'message') process.on('message', (data) => listener({ data }));
  },
  postMessage(message) {
    process.send(message);
  },
};
await import(process.argv[2]);
