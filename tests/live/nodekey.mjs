// Writes a node key into an @ethereumjs/client data directory before its first start.
// The client has no node-key flag: it keeps its devp2p private key as the raw 32 bytes
// under `config:client_key` in the LevelDB at <dataDir>/<chain name>/config
// (chain name = the genesis file's base name), and generates one only when it is missing.
// Usage: node nodekey.mjs <dataDir>/<chain name> <nodekey file (64 hex)>
import { readFileSync, mkdirSync } from 'node:fs'
import { Level } from 'level'

const [networkDir, keyFile] = process.argv.slice(2)
if (!networkDir || !keyFile) {
  console.error('usage: node nodekey.mjs NETWORK_DIR NODEKEY_FILE')
  process.exit(2)
}
const hex = readFileSync(keyFile, 'utf8').trim()
if (!/^[0-9a-f]{64}$/.test(hex)) {
  console.error(`${keyFile}: not 64 lowercase hex characters`)
  process.exit(1)
}
mkdirSync(networkDir, { recursive: true })
const db = new Level(`${networkDir}/config`)
const opts = { keyEncoding: 'utf8', valueEncoding: 'view' }
await db.put('config:client_key', Uint8Array.from(Buffer.from(hex, 'hex')), opts)
const back = await db.get('config:client_key', opts)
await db.close()
if (Buffer.from(back).toString('hex') !== hex) {
  console.error('node key read back differs')
  process.exit(1)
}
