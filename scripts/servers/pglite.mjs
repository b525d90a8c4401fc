// Serves PGlite (Postgres 17.5 compiled to WASM) with the pgvector 0.8.0 extension over the Postgres wire
// protocol on 127.0.0.1, for the pgvector plugin's tests and local trials. PGlite answers ONE connection at
// a time: clients must use a pool of one (Npgsql: Max Pool Size=1).
//
//   node scripts/servers/pglite.mjs --modules artifacts/pglite [--port 0] [--db DIR]
//
// --modules: the folder scripts/setup/40-pglite.sh installed the npm packages into.
// --port 0 (default) lets the OS choose; the chosen port is printed as the line "LISTENING <port>".
// --db: a data directory to keep the database in; in memory when omitted.
// --max-connections: sockets accepted at once (default 1). PGlite still runs one query at a time (the socket
//   server queues them and keeps a transaction's statements together); the tests allow a few so a new client
//   gets in while the server is still noticing that the previous one closed its socket.
// Stops cleanly on SIGTERM/SIGINT (the test fixture stops it by PID).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []));
const modules = resolve(args.modules ?? 'artifacts/pglite');
const require = createRequire(resolve(modules, 'package.json'));
const { PGlite } = require('@electric-sql/pglite');
const { vector } = require('@electric-sql/pglite/vector');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');

const db = await PGlite.create({ dataDir: args.db, extensions: { vector } });
await db.exec('CREATE EXTENSION IF NOT EXISTS vector;');
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: Number(args.port ?? 0), maxConnections: Number(args['max-connections'] ?? 1) });
server.addEventListener('listening', (event) => {
  const port = event.detail?.port ?? args.port;
  process.stdout.write(`LISTENING ${port}\n`);
});
await server.start();

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await server.stop();
    await db.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
