// Test server, not shipped: an in-memory PLC directory + a SQLite-backed Bluesky PDS on
// 127.0.0.1 (no outside network). Prints one JSON "ready" line on stdout.
// Usage: PLC_PORT=2582 PDS_PORT=2583 DATA_DIR=/tmp/x node start-pds.js
'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
// Both servers call app.listen(port) (all interfaces): pin them to loopback.
const origListen = http.Server.prototype.listen
http.Server.prototype.listen = function (port, ...rest) {
  if (typeof port === 'number' && typeof rest[0] !== 'string') rest.unshift('127.0.0.1')
  return origListen.call(this, port, ...rest)
}
const plc = require('@did-plc/server')
const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds')

async function main() {
  const t0 = Date.now()
  const plcPort = Number(process.env.PLC_PORT || 2582)
  const pdsPort = Number(process.env.PDS_PORT || 2583)
  const dataDir = process.env.DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-pds-'))
  fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })
  const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
  await plcServer.start()
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost', // handles end in .test
    PDS_PORT: String(pdsPort),
    PDS_DEV_MODE: 'true',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: `http://localhost:${plcPort}`,
    PDS_INVITE_REQUIRED: 'false',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_JWT_SECRET: crypto.randomBytes(16).toString('hex'),
    PDS_ADMIN_PASSWORD: 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: crypto.randomBytes(32).toString('hex'),
  })
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  await pds.start()
  console.log(JSON.stringify({ ready: true, plc: `http://127.0.0.1:${plcPort}`, pds: `http://127.0.0.1:${pdsPort}`, dataDir, ms: Date.now() - t0 }))
  const stop = async () => { await pds.destroy(); await plcServer.destroy(); process.exit(0) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
main().catch((err) => { console.error(err); process.exit(1) })
